// The registry: one schema per channel type, secrets marked and redacted, configs parsed at the boundary, sends routed by type.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  channelConfigSchemas, channelTypes, createChannelRegistry, generateWebhookSecret, hasSecretFields, isPrivateAddress,
  parseChannelConfig, redactChannelConfig, REDACTED, type ChannelType, type DashboardNotification,
} from '../../../src/channels';
import { startHttpReceiver, type HttpReceiver } from '../../support/peers/http-receiver';
import { deliveryMessage, failureOf, loopbackContext } from './fixtures';

// One valid config per channel with every secret set to a recognisable value.
const secrets = ['whsec-VALUE', 'PRIVATE-KEY-VALUE', 'PASSPHRASE-VALUE', 'SMTP-PASS-VALUE', 'hooks-PATH-VALUE', 'AUTH-VALUE', 'VAPID-PRIVATE-VALUE', 'Bearer HEADER-VALUE'];
const webhookSecret = generateWebhookSecret();
const fullConfigs: Record<ChannelType, unknown> = {
  API_WEBHOOK: { url: 'https://hooks.example.com/x', secret: webhookSecret, headers: { Authorization: 'Bearer HEADER-VALUE' } },
  SFTP: { host: 'sftp.example.com', username: 'u', auth: { type: 'key', privateKey: 'PRIVATE-KEY-VALUE', passphrase: 'PASSPHRASE-VALUE' }, remoteDir: '/in' },
  EMAIL: { host: 'smtp.example.com', auth: { user: 'u', pass: 'SMTP-PASS-VALUE' }, from: 'a@example.com', to: ['b@example.com'] },
  SLACK_INTEGRATION: { webhookUrl: 'https://hooks.slack.com/services/hooks-PATH-VALUE' },
  DASHBOARD_NOTIFICATION: {},
  MOBILE_PUSH: {
    subscription: { endpoint: 'https://push.example.com/x', keys: { p256dh: 'BPUBLIC', auth: 'AUTH-VALUE' } },
    vapid: { subject: 'mailto:a@example.com', publicKey: 'BVAPIDPUBLIC', privateKey: 'VAPID-PRIVATE-VALUE' },
  },
};

describe('channel registry', () => {
  let receiver: HttpReceiver;
  beforeAll(async () => {
    receiver = await startHttpReceiver();
  });
  afterAll(async () => {
    await receiver.close();
  });

  it('has a schema for every channel type, and every channel with credentials marks them secret', () => {
    expect(Object.keys(channelConfigSchemas).sort()).toEqual([...channelTypes].sort());
    for (const type of channelTypes) expect(hasSecretFields(channelConfigSchemas[type]), type).toBe(type !== 'DASHBOARD_NOTIFICATION');
  });

  it.each(channelTypes)('redacts every secret of %s and keeps the rest', (type) => {
    const redacted = JSON.stringify(redactChannelConfig(type, parseChannelConfig(type, fullConfigs[type])));
    for (const s of [...secrets, webhookSecret]) expect(redacted).not.toContain(s);
    if (type !== 'DASHBOARD_NOTIFICATION') expect(redacted).toContain(`"${REDACTED}"`);
  });

  it('keeps non-secret fields and key names readable after redaction', () => {
    expect(redactChannelConfig('API_WEBHOOK', parseChannelConfig('API_WEBHOOK', fullConfigs.API_WEBHOOK))).toEqual({
      url: 'https://hooks.example.com/x', secret: REDACTED, format: 'auto', headers: { Authorization: REDACTED },
    });
    expect(redactChannelConfig('SFTP', parseChannelConfig('SFTP', fullConfigs.SFTP))).toMatchObject({
      host: 'sftp.example.com', port: 22, auth: { type: 'key', privateKey: REDACTED, passphrase: REDACTED },
    });
    const byPassword = parseChannelConfig('SFTP', { ...(fullConfigs.SFTP as object), auth: { type: 'password', password: 'PW-VALUE' } });
    expect(redactChannelConfig('SFTP', byPassword).auth).toEqual({ type: 'password', password: REDACTED });
  });

  it('rejects an invalid config with INVALID_CONFIG naming the paths, never the values', async () => {
    const err = await failureOf((async () => parseChannelConfig('EMAIL', { host: '', auth: { user: 'u', pass: '' }, from: 'not-an-address', to: [] }))());
    expect(err).toMatchObject({ code: 'INVALID_CONFIG', permanent: true });
    expect(err.message).toMatch(/host: .*auth\.pass: .*from: .*to: /);
    const leaky = await failureOf((async () => parseChannelConfig('API_WEBHOOK', { url: 'https://x', secret: 'whsec_TOO-SHORT-SECRET' }))());
    expect(leaky.message).toContain('secret');
    expect(leaky.message).not.toContain('TOO-SHORT-SECRET');
  });

  it('routes a send by type, parsing the stored config first', async () => {
    const published: DashboardNotification[] = [];
    const registry = createChannelRegistry({ notificationSink: { publish: async (n) => void published.push(n) } });
    expect(registry.senderFor('SFTP').type).toBe('SFTP');
    await registry.send('DASHBOARD_NOTIFICATION', deliveryMessage(), {}, loopbackContext());
    expect(published).toHaveLength(1);
    await registry.send('API_WEBHOOK', deliveryMessage(), { url: receiver.url('/r'), secret: webhookSecret }, loopbackContext());
    expect(receiver.requests.at(-1)!.headers['webhook-signature']).toMatch(/^v1,/);
    const bad = await failureOf(registry.send('API_WEBHOOK', deliveryMessage(), { url: receiver.url('/r') }, loopbackContext()));
    expect(bad).toMatchObject({ code: 'INVALID_CONFIG', permanent: true });
    const unknown = await failureOf(registry.send('CARRIER_PIGEON' as ChannelType, deliveryMessage(), {}, loopbackContext()));
    expect(unknown).toMatchObject({ code: 'INVALID_CONFIG' });
  });

  it.each([
    ['127.0.0.1', true], ['10.20.30.40', true], ['172.16.0.1', true], ['172.32.0.1', false], ['192.168.1.1', true],
    ['169.254.169.254', true], ['100.64.0.1', true], ['0.0.0.0', true], ['224.0.0.1', true], ['8.8.8.8', false],
    ['::1', true], ['fe80::1', true], ['fd00::1', true], ['::ffff:127.0.0.1', true], ['::ffff:8.8.8.8', false],
    ['2606:4700:4700::1111', false], ['not-an-ip', true],
  ])('isPrivateAddress(%s) = %s', (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });
});
