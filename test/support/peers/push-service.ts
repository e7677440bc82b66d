// A Web Push service on https://127.0.0.1 that does what a real one must: check the VAPID JWT and decrypt the payload (RFC 8291/8292).
import { createECDH, createPublicKey, hkdfSync, randomBytes, createDecipheriv, verify, type ECDH } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SelfSignedCert } from './tls-cert';

export interface PushSubscriptionJson {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface VapidClaims {
  aud: string;
  exp: number;
  sub: string;
}

export interface ReceivedPush {
  path: string;
  ttl: string | undefined;
  urgency: string | undefined;
  topic: string | undefined;
  contentEncoding: string | undefined;
  /** The `k=` key the JWT verified against. */
  vapidPublicKey: string;
  claims: VapidClaims;
  /** The decrypted payload, as text. */
  payload: string;
}

export interface PushReply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  delayMs?: number;
}

export interface PushService {
  origin: string;
  /** A browser-like subscription on this service; the service keeps its private key to decrypt what arrives. */
  subscribe(): PushSubscriptionJson;
  received: ReceivedPush[];
  /** Requests the service refused, with its reason (bad JWT, undecryptable body). */
  refused: string[];
  /** How accepted messages are answered; default 201 with a Location, as RFC 8030 §5 says. */
  respondWith(reply: () => PushReply): void;
  close(): Promise<void>;
}

/** Verifies `Authorization: vapid t=<jwt>, k=<key>` (RFC 8292): ES256 over the JWT with the key in k, and the claims. */
export function verifyVapid(authorization: string, expectedAudience: string, nowSeconds: number): { claims: VapidClaims; publicKey: string } {
  const m = /^vapid t=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization);
  if (!m) throw new Error(`not a vapid Authorization header: ${authorization}`);
  const [jwt, k] = [m[1], m[2]];
  const [head, body, signature] = jwt.split('.');
  const header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as { alg?: string };
  if (header.alg !== 'ES256') throw new Error(`JWT alg ${header.alg}, expected ES256`);
  const raw = Buffer.from(k, 'base64url');
  if (raw.length !== 65 || raw[0] !== 4) throw new Error('k is not an uncompressed P-256 point');
  const key = createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33).toString('base64url') },
    format: 'jwk',
  });
  // JWS ES256 signatures are r||s (64 bytes), not DER.
  if (!verify('sha256', Buffer.from(`${head}.${body}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'))) {
    throw new Error('VAPID JWT signature does not verify with k');
  }
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as VapidClaims;
  if (claims.aud !== expectedAudience) throw new Error(`aud ${claims.aud}, expected ${expectedAudience}`);
  if (!(claims.exp > nowSeconds && claims.exp <= nowSeconds + 24 * 3600)) throw new Error(`exp ${claims.exp} not within the next 24 h`);
  if (!/^(mailto:|https:)/.test(claims.sub)) throw new Error(`sub ${claims.sub} is not mailto: or https:`);
  return { claims, publicKey: k };
}

/** Decrypts an aes128gcm body (RFC 8188 framing, RFC 8291 keys) with the subscription's private key and auth secret. */
export function decryptAes128gcm(body: Buffer, receiver: ECDH, authSecret: Buffer): Buffer {
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const idLength = body[20];
  const senderPublic = body.subarray(21, 21 + idLength);
  const record = body.subarray(21 + idLength);
  if (record.length > recordSize) throw new Error('more than one record; push messages have exactly one');
  const ecdhSecret = receiver.computeSecret(senderPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), receiver.getPublicKey(), senderPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, authSecret, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error('last record lacks the 0x02 padding delimiter');
  return padded.subarray(0, end);
}

export async function startPushService(cert: SelfSignedCert): Promise<PushService> {
  const subscriptions = new Map<string, { ecdh: ECDH; auth: Buffer }>();
  const received: ReceivedPush[] = [];
  const refused: string[] = [];
  let replyWith: () => PushReply = () => ({ status: 201, headers: { location: `${origin}/message/${randomBytes(6).toString('hex')}` } });
  const server: Server = createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      const refuse = (status: number, why: string): void => {
        refused.push(why);
        res.writeHead(status).end(why);
      };
      const sub = subscriptions.get(path);
      if (!sub) return refuse(404, 'no such subscription');
      let vapid: ReturnType<typeof verifyVapid>;
      let payload: string;
      try {
        vapid = verifyVapid(String(req.headers.authorization ?? ''), origin, Math.floor(Date.now() / 1000));
      } catch (err) {
        return refuse(401, `VAPID: ${(err as Error).message}`);
      }
      try {
        payload = decryptAes128gcm(Buffer.concat(chunks), sub.ecdh, sub.auth).toString('utf8');
      } catch (err) {
        return refuse(400, `decrypt: ${(err as Error).message}`);
      }
      const h = (n: string): string | undefined => (req.headers[n] === undefined ? undefined : String(req.headers[n]));
      const push: ReceivedPush = {
        path, ttl: h('ttl'), urgency: h('urgency'), topic: h('topic'), contentEncoding: h('content-encoding'),
        vapidPublicKey: vapid.publicKey, claims: vapid.claims, payload,
      };
      received.push(push);
      const reply = replyWith();
      const answer = (): void => {
        if (!res.destroyed) res.writeHead(reply.status, reply.headers ?? {}).end(reply.body ?? '');
      };
      if (reply.delayMs) setTimeout(answer, reply.delayMs).unref();
      else answer();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    subscribe() {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      const path = `/push/${randomBytes(8).toString('hex')}`;
      subscriptions.set(path, { ecdh, auth });
      return { endpoint: `${origin}${path}`, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } };
    },
    received,
    refused,
    respondWith(reply) {
      replyWith = reply;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
