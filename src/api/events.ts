// /api/v1/events: operator notifications, recent ones over REST and new ones as they happen over a WebSocket.
//
// Browsers cannot set headers on a WebSocket, and a key in the URL ends up in access logs, so the page sends
// its key as the first message: {"type":"auth","key":"…"}. Other clients may send `Authorization: Bearer …`.
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { WebSocket } from 'ws';
import type { Notification, Notifier } from '../notify/notifier';
import { operatorOf, requireOperator } from './dashboard';
import { bearerToken, type RoleAuth } from './auth';
import { ErrorBody } from './schemas';

const NotificationSchema = Type.Object({
  id: Type.String(),
  at: Type.String({ format: 'date-time' }),
  kind: Type.String(),
  severity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]),
  title: Type.String(),
  message: Type.String(),
  workflowId: Type.Optional(Type.String()),
  refs: Type.Record(Type.String(), Type.String()),
});

/** Close codes in the 4000 range (application-defined): 4401 no key, or an unknown one; 4403 a key that may not read this. */
const AUTH_TIMEOUT_MS = 5000;
const PING_MS = 30_000;

export const eventsPlugin = (deps: { auth: RoleAuth; notifier: Notifier }): FastifyPluginAsync => async (app) => {
  app.get('/api/v1/events/recent', {
    preHandler: requireOperator(deps.auth),
    schema: {
      tags: ['events'],
      summary: 'Recent operator notifications (file failed, load reverted, sync failed, delivery failed, thresholds), newest first',
      security: [{ bearer: [] }],
      querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }) }),
      response: { 200: Type.Object({ items: Type.Array(NotificationSchema) }), 401: ErrorBody, 403: ErrorBody },
    },
  }, async (req) => ({ items: deps.notifier.recent((req.query as { limit: number }).limit) }));

  app.get('/api/v1/events/stream', {
    websocket: true,
    schema: {
      tags: ['events'],
      summary: 'WebSocket: send {"type":"auth","key":"…"} first (or the Authorization header); then receive {"type":"ready","recent":[…]} and {"type":"notification","notification":{…}} as they happen',
    },
  }, (socket: WebSocket, req) => {
    let unsubscribe: (() => void) | null = null;
    const send = (msg: unknown) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(msg));
    };
    const admit = () => {
      clearTimeout(authTimer);
      send({ type: 'ready', recent: deps.notifier.recent(50) });
      unsubscribe = deps.notifier.subscribe((n: Notification) => send({ type: 'notification', notification: n }));
    };
    const refuse = (code: number, message: string) => {
      send({ type: 'error', message });
      socket.close(code, message);
    };
    const authTimer = setTimeout(() => refuse(4401, 'send {"type":"auth","key":"…"} first'), AUTH_TIMEOUT_MS);
    const pinger = setInterval(() => socket.ping(), PING_MS);
    socket.on('close', () => {
      clearTimeout(authTimer);
      clearInterval(pinger);
      unsubscribe?.();
    });

    const check = (key: string) => {
      operatorOf(deps.auth, key).then(
        (r) => ('caller' in r ? admit() : refuse(r.refused, r.refused === 4401 ? 'unknown or revoked API key' : 'only operator and admin keys may read the event stream')),
        (err: Error) => {
          req.log.error({ err: err.message }, 'event stream: the key could not be checked');
          refuse(1011, 'the key could not be checked; try again');
        },
      );
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
      if (typeof key !== 'string') return refuse(4401, 'the first message must be {"type":"auth","key":"…"}');
      check(key);
    });
  });
};
