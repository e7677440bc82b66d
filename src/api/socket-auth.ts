// Authenticating a WebSocket by API key, shared by every stream the API serves.
//
// Browsers cannot set headers on a WebSocket, and a key in the URL ends up in access logs, so a page sends its key as
// the first message: {"type":"auth","key":"…"}. Other clients may send `Authorization: Bearer …` instead.
// Close codes in the 4000 range (application-defined): 4401 no key or an unknown one; the stream's admit() picks
// others (4403 a key that may not read it, 4404 nothing of that name for this key); 4429 the key holds as many streams
// as REFDATA_STREAMS_PER_KEY allows.
import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { bearerToken } from './auth';
import type { StreamLimiter } from './stream-limits';

declare module 'fastify' {
  interface FastifyInstance {
    /** Open WebSocket streams per key (src/api/server.ts). */
    streamLimiter?: StreamLimiter;
  }
}

const AUTH_TIMEOUT_MS = 5_000;
const PING_MS = 30_000;

export interface KeyedSocket {
  send(msg: unknown): void;
  /** Sends {"type":"error"} and closes with `code`. */
  refuse(code: number, message: string): void;
  /** Runs `fn` when the socket closes (unsubscribe, stop polling). */
  onClose(fn: () => void): void;
}

/**
 * Waits for the caller's key (header, else the first message, within 5 s), then hands it to `admit`, which checks
 * it and starts the stream or refuses. A failure inside admit closes with 1011; the socket is pinged while open.
 */
export function acceptKeyedSocket(socket: WebSocket, req: FastifyRequest, admit: (key: string, s: KeyedSocket) => Promise<void>): void {
  const closers: Array<() => void> = [];
  let closed = false;
  const s: KeyedSocket = {
    send(msg) {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(msg));
    },
    refuse(code, message) {
      s.send({ type: 'error', message });
      socket.close(code, message);
    },
    onClose(fn) {
      // A client that left while its key was being checked must not leave a subscription or a poller behind.
      if (closed) fn();
      else closers.push(fn);
    },
  };
  const authTimer = setTimeout(() => s.refuse(4401, 'send an API key: Authorization header or {"type":"auth","key":"…"} first'), AUTH_TIMEOUT_MS);
  const pinger = setInterval(() => socket.ping(), PING_MS);
  socket.on('close', () => {
    closed = true;
    clearTimeout(authTimer);
    clearInterval(pinger);
    for (const fn of closers) fn();
  });
  const check = (key: string) => {
    clearTimeout(authTimer);
    const limiter = req.server.streamLimiter;
    if (limiter) {
      const release = limiter.acquire(key);
      if (!release) return s.refuse(4429, `this key holds ${limiter.maxPerKey} open streams, the most it may (REFDATA_STREAMS_PER_KEY); close one first`);
      s.onClose(release);
    }
    admit(key, s).catch((err: unknown) => {
      req.log.error({ err }, `${req.url.split('?')[0]}: the stream could not start`);
      s.refuse(1011, 'the key could not be checked or the stream could not start; see the API log');
    });
  };
  const header = bearerToken(req);
  if (header !== null) return check(header);
  socket.once('message', (data) => {
    let key: unknown;
    try {
      const msg = JSON.parse(String(data)) as { type?: unknown; key?: unknown };
      key = msg.type === 'auth' ? msg.key : undefined;
    } catch {
      key = undefined;
    }
    if (typeof key !== 'string' || key === '') return s.refuse(4401, 'the first message must be {"type":"auth","key":"…"}');
    check(key);
  });
}
