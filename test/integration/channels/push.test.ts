// MOBILE_PUSH against a push service on https://127.0.0.1 that verifies the VAPID JWT and decrypts the payload with node:crypto.
import webpush from 'web-push';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushConfigSchema, pushSender, PUSH_PAYLOAD_LIMIT, type PushConfig } from '../../../src/channels/push';
import { startPushService, type PushService } from '../../support/peers/push-service';
import { makeSelfSignedCert, type SelfSignedCert } from '../../support/peers/tls-cert';
import { makeTempDir, type TempDir } from '../../support/temp';
import { deliveryMessage, failureOf, loopbackContext } from './fixtures';

let dir: TempDir;
let cert: SelfSignedCert;
let service: PushService;
const vapid = webpush.generateVAPIDKeys();

beforeAll(async () => {
  dir = await makeTempDir('refdata-push-');
  cert = await makeSelfSignedCert(dir.path);
  service = await startPushService(cert);
});
afterAll(async () => {
  await service?.close();
  await dir.cleanup();
});

function config(overrides: Partial<PushConfig> = {}): PushConfig {
  return pushConfigSchema.parse({
    subscription: service.subscribe(),
    vapid: { subject: 'mailto:ops@refdata.example', publicKey: vapid.publicKey, privateKey: vapid.privateKey },
    urgency: 'high',
    topic: 'reference-data',
    ...overrides,
  });
}
// web-push speaks https only; the service's self-signed certificate is trusted through ctx.trustedCa.
const ctx = (extra = {}) => loopbackContext({ trustedCa: [cert.cert], ...extra });

describe('MOBILE_PUSH', () => {
  it('sends a payload the service decrypts, under a VAPID JWT it verifies (aud, exp, sub, ES256)', async () => {
    service.respondWith(() => ({ status: 201, headers: { location: `${service.origin}/message/abc123` } }));
    const msg = deliveryMessage();
    const result = await pushSender.send(msg, config({ ttlSeconds: 600 }), ctx());

    expect(service.refused).toEqual([]);
    const push = service.received.at(-1)!;
    expect(push.vapidPublicKey).toBe(vapid.publicKey);
    expect(push.claims.aud).toBe(service.origin);
    expect(push.claims.sub).toBe('mailto:ops@refdata.example');
    expect(push).toMatchObject({ contentEncoding: 'aes128gcm', ttl: '600', urgency: 'high', topic: 'reference-data' });
    expect(JSON.parse(push.payload)).toEqual({
      title: msg.title,
      body: msg.summary,
      data: { deliveryId: msg.deliveryId, reportId: msg.reportId, reportType: msg.reportType, url: msg.link },
    });
    expect(result).toMatchObject({ status: 'delivered', remoteId: `${service.origin}/message/abc123` });
  });

  it('shortens a long summary to fit one push record, and the result still decrypts', async () => {
    service.respondWith(() => ({ status: 201 }));
    await pushSender.send(deliveryMessage({ summary: 'x'.repeat(10_000) }), config(), ctx());
    const payload = service.received.at(-1)!.payload;
    expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(PUSH_PAYLOAD_LIMIT);
    expect((JSON.parse(payload) as { body: string }).body).toMatch(/^x+…$/);
  });

  // RFC 8030 §7.3 and the push services' documented answers.
  const answers: [number, Record<string, string>, string, boolean, boolean, number | undefined][] = [
    [410, {}, 'GONE', true, true, undefined],
    [404, {}, 'GONE', true, true, undefined],
    [400, {}, 'HTTP_4XX', true, false, undefined],
    [403, {}, 'AUTH_FAILED', true, false, undefined],
    [413, {}, 'TOO_LARGE', true, false, undefined],
    [429, { 'retry-after': '12' }, 'RATE_LIMITED', false, false, 12_000],
    [503, {}, 'HTTP_5XX', false, false, undefined],
  ];
  it.each(answers)('HTTP %i %j → %s (permanent %s, disable %s)', async (status, headers, code, permanent, disable, retryAfterMs) => {
    service.respondWith(() => ({ status, headers }));
    const err = await failureOf(pushSender.send(deliveryMessage(), config(), ctx()));
    expect(err).toMatchObject({ code, permanent, disable, status });
    expect(err.retryAfterMs).toBe(retryAfterMs);
  });

  it('is refused by the service when the JWT is not signed by the key it names (the receiver really checks)', async () => {
    const other = webpush.generateVAPIDKeys();
    const before = service.refused.length;
    const mismatched = config({ vapid: { subject: 'mailto:ops@refdata.example', publicKey: other.publicKey, privateKey: vapid.privateKey } });
    const err = await failureOf(pushSender.send(deliveryMessage(), mismatched, ctx()));
    expect(err).toMatchObject({ code: 'AUTH_FAILED', permanent: true, status: 401 });
    expect(service.refused.slice(before)).toEqual(['VAPID: VAPID JWT signature does not verify with k']);
  });

  it('is refused by the service when the payload was encrypted for other keys (the receiver really decrypts)', async () => {
    const c = config();
    const stranger = service.subscribe(); // same service, but keys the subscription at c's endpoint does not hold
    const before = service.refused.length;
    const err = await failureOf(pushSender.send(deliveryMessage(), { ...c, subscription: { ...c.subscription, keys: stranger.keys } }, ctx()));
    expect(err).toMatchObject({ code: 'HTTP_4XX', permanent: true, status: 400 });
    expect(service.refused.slice(before)[0]).toMatch(/^decrypt: /);
  });

  it('fails permanently (TLS) when the service certificate is not trusted', async () => {
    const err = await failureOf(pushSender.send(deliveryMessage(), config(), loopbackContext()));
    expect(err).toMatchObject({ code: 'TLS', permanent: true });
  });

  it('times out a service that does not answer (retryable)', async () => {
    service.respondWith(() => ({ status: 201, delayMs: 3_000 }));
    const err = await failureOf(pushSender.send(deliveryMessage(), config(), ctx({ timeoutMs: 300 })));
    // TIMEOUT, not the 200/201 the peer sends after 3 s: the sender cut the wait (no wall-clock bound: load stretches it).
    expect(err).toMatchObject({ code: 'TIMEOUT', permanent: false });
  });

  it('refuses a push endpoint on the private network unless allowed, and non-https endpoints in the schema', async () => {
    const err = await failureOf(pushSender.send(deliveryMessage(), config(), ctx({ allowPrivateNetworks: false })));
    expect(err).toMatchObject({ code: 'DESTINATION_REFUSED', permanent: true });
    const insecure = { ...config().subscription, endpoint: 'http://push.example.com/x' };
    expect(pushConfigSchema.safeParse({ ...config(), subscription: insecure }).success).toBe(false);
  });
});
