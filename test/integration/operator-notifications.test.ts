// Operator notifications survive a restart and go out through the alert channel: on real PostgreSQL (and SQL Server
// when MSSQL_URL is set), a notification raised → its row in ref.operator_notifications (values read back), an email
// on a real SMTP server on loopback, and GET /api/v1/notifications answering from the table after the notifier and the
// API are recreated. Slack is sent to an HTTP receiver on loopback standing in for hooks.slack.com (the real Slack is
// out of reach here).
import crypto from 'node:crypto';
import { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/server';
import { slackConfigSchema } from '../../src/channels/slack';
import { loadConfig } from '../../src/config';
import type { Database } from '../../src/db/types';
import { silentLogger } from '../../src/log/logger';
import { parseAlertChannel, type OutboundAlertSettings } from '../../src/notify/alert-channel';
import { notifyLoadReverted, notifySyncFailed } from '../../src/notify/events';
import { keepNotifications } from '../../src/notify/keeper';
import { createNotifier, type Notifier } from '../../src/notify/notifier';
import { databaseTargets } from '../support/db-targets';
import { startHttpReceiver, type HttpReceiver } from '../support/peers/http-receiver';
import { decodedBody, headerOf, mimeParts, startSmtpPeer, type SmtpPeer } from '../support/peers/smtp';
import { makeTempDir, type TempDir } from '../support/temp';
import { closedPort } from './channels/fixtures';

const adminKey = 'test-admin-key-notifications-0123456789';

function emailAlerts(port: number): OutboundAlertSettings {
  const parsed = parseAlertChannel({ channel: 'email:ops@firm.example', smtpUrl: `smtp://127.0.0.1:${port}?security=none`, from: 'refdata@firm.example', minSeverity: 'warning' });
  expect(parsed.problems).toEqual([]);
  return parsed.settings!;
}

async function eventually<T>(what: string, fn: () => Promise<T | null | undefined | false>): Promise<T> {
  const until = Date.now() + 30_000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.each(databaseTargets('opnotif'))('operator notifications on $name', (target) => {
  let db: Database;
  let cleanup: () => Promise<void> = async () => undefined;
  let smtp: SmtpPeer;
  let temp: TempDir;
  let api: FastifyInstance | null = null;
  const tag = crypto.randomBytes(4).toString('hex');
  const startedAt = new Date(Date.now() - 1000);

  async function startApi(notifier: Notifier, outbound: OutboundAlertSettings | null): Promise<FastifyInstance> {
    const defaults = loadConfig({});
    return buildApi({
      db, client: new Client({ namespace: 'default' }), log: silentLogger(), dropRoot: temp.path, adminKey,
      operations: { temporalUiUrl: defaults.temporal.uiUrl, alerts: { ...defaults.alerts, outbound }, notifier },
    });
  }

  const mine = async (query = '') => {
    const res = await api!.inject({ method: 'GET', url: `/api/v1/notifications?since=${encodeURIComponent(startedAt.toISOString())}${query}`, headers: { authorization: `Bearer ${adminKey}` } });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { items: { id: string; kind: string; severity: string; title: string; message: string; refs: Record<string, string>; sent: { channel: string | null; at: string | null; error: string | null } }[]; next_cursor: string | null };
    return { ...body, items: body.items.filter((n) => n.id.includes(tag)) };
  };

  beforeAll(async () => {
    if (target.skip) return;
    ({ db, cleanup } = await target.open());
    await db.migrate();
    smtp = await startSmtpPeer();
    temp = await makeTempDir('refdata-notifications-');
  });
  afterAll(async () => {
    await api?.close();
    await smtp?.close();
    await temp?.cleanup();
    await cleanup();
  });

  it.skipIf(target.skip)('keeps a raised notification in the table and emails it through the alert channel once', async () => {
    const notifier = createNotifier();
    api = await startApi(notifier, emailAlerts(smtp.port));
    const before = smtp.messages.length;
    notifySyncFailed(notifier, { syncRunId: `sync-${tag}`, workflowId: `instrument-sync-${tag}`, status: 'failed', message: 'the broker answered HTTP 503' });
    // info is below the alert severity: kept and shown, not sent.
    notifyLoadReverted(notifier, { loadId: `load-${tag}`, table: 'ref.airports', mode: 'append', rows: 12 });

    const sent = await eventually('the alert to be sent', async () => (await mine()).items.find((n) => n.kind === 'sync.failed' && n.sent.at));
    expect(sent).toMatchObject({ id: `sync.failed:sync-${tag}`, severity: 'critical', title: 'Instrument sync failed', refs: { syncRunId: `sync-${tag}`, status: 'failed' }, sent: { channel: 'EMAIL', error: null } });
    expect(sent.message).toContain('the broker answered HTTP 503');

    const mails = smtp.messages.slice(before);
    expect(mails).toHaveLength(1);
    expect(mails[0].rcptTo).toEqual(['ops@firm.example']);
    const raw = mails[0].raw.toString('utf8');
    expect(headerOf(mimeParts(raw)[0]?.headers ?? raw, 'Subject') ?? raw).toContain('Instrument sync failed');
    const text = mimeParts(raw).find((p) => /text\/plain/.test(headerOf(p.headers, 'Content-Type') ?? '')) ?? mimeParts(raw)[0];
    expect(decodedBody(text).toString('utf8')).toContain('the broker answered HTTP 503');

    const reverted = await eventually('the info notification to be kept', async () => (await mine()).items.find((n) => n.kind === 'load.reverted'));
    expect(reverted.sent).toEqual({ channel: null, at: null, error: null });

    // The same event raised again (another process, a new notifier) is one row and one email.
    const other = createNotifier();
    const keeper = keepNotifications({ notifier: other, store: db.notifications, log: silentLogger(), outbound: emailAlerts(smtp.port) });
    notifySyncFailed(other, { syncRunId: `sync-${tag}`, workflowId: `instrument-sync-${tag}`, status: 'failed', message: 'the broker answered HTTP 503' });
    await keeper.flush();
    keeper.stop();
    expect((await mine()).items.filter((n) => n.kind === 'sync.failed')).toHaveLength(1);
    expect(smtp.messages.slice(before)).toHaveLength(1);
  });

  it.skipIf(target.skip)('answers from the table after the notifier and the API are recreated, paged and filtered by since', async () => {
    await api!.close();
    api = await startApi(createNotifier(), null);
    const all = await mine();
    expect(all.items.map((n) => n.kind).sort()).toEqual(['load.reverted', 'sync.failed']);
    // Newest first, one per page: the cursor leads to the other one and then ends.
    const first = await mine('&limit=1');
    expect(first.items).toHaveLength(1);
    expect(first.next_cursor).not.toBeNull();
    const second = await mine(`&limit=1&cursor=${first.next_cursor}`);
    expect(second.items).toHaveLength(1);
    expect(second.items[0].id).not.toBe(first.items[0].id);
    // since in the future: nothing; a bad since or cursor: 400.
    const later = await api!.inject({ method: 'GET', url: '/api/v1/notifications?since=2999-01-01', headers: { authorization: `Bearer ${adminKey}` } });
    expect((later.json() as { items: unknown[] }).items).toEqual([]);
    expect((await api!.inject({ method: 'GET', url: '/api/v1/notifications?since=yesterday', headers: { authorization: `Bearer ${adminKey}` } })).statusCode).toBe(400);
    expect((await api!.inject({ method: 'GET', url: '/api/v1/notifications?cursor=bm9wZQ', headers: { authorization: `Bearer ${adminKey}` } })).statusCode).toBe(400);
    expect((await api!.inject({ method: 'GET', url: '/api/v1/notifications' })).statusCode).toBe(401);
  });

  it.skipIf(target.skip)('records why an alert was not sent when the SMTP server is down, and keeps the notification', async () => {
    const notifier = createNotifier();
    const keeper = keepNotifications({ notifier, store: db.notifications, log: silentLogger(), outbound: emailAlerts(await closedPort()), channelContext: { timeoutMs: 5_000 } });
    notifier.notify({ id: `distribution.failed:${tag}`, kind: 'distribution.failed', severity: 'critical', title: 'Distribution failed', message: 'disk full' });
    await keeper.flush();
    keeper.stop();
    const row = (await mine()).items.find((n) => n.kind === 'distribution.failed')!;
    expect(row.sent.channel).toBe('EMAIL');
    expect(row.sent.at).toBeNull();
    expect(row.sent.error).toMatch(/127\.0\.0\.1/);
  });

  it.skipIf(target.skip)('posts to a Slack incoming webhook (a receiver on loopback standing in for Slack)', async () => {
    const receiver: HttpReceiver = await startHttpReceiver();
    try {
      const notifier = createNotifier();
      const outbound: OutboundAlertSettings = { destination: { channel: 'SLACK_INTEGRATION', config: slackConfigSchema.parse({ webhookUrl: receiver.url('/services/T0/B0/x') }) }, minSeverity: 'warning' };
      const keeper = keepNotifications({ notifier, store: db.notifications, log: silentLogger(), outbound });
      notifier.notify({ id: `channel.unhealthy:${tag}`, kind: 'channel.unhealthy', severity: 'warning', title: `Channel ch_${tag} is unhealthy`, message: 'five failures in a row' });
      await keeper.flush();
      keeper.stop();
      const posted = JSON.parse(receiver.requests.at(-1)!.body.toString('utf8')) as { text: string };
      expect(posted.text).toContain(`Channel ch_${tag} is unhealthy`);
      expect((await mine()).items.find((n) => n.kind === 'channel.unhealthy')!.sent).toMatchObject({ channel: 'SLACK_INTEGRATION', error: null });
    } finally {
      await receiver.close();
    }
  });
});
