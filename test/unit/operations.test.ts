// Pure pieces of operations: the notifier, notification wording, doctor's destinations and report.
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createNotifier } from '../../src/notify/notifier';
import { announceDeliveryChange, deliveryErrorText, notifyFileFailed } from '../../src/notify/events';
import { deliveriesTotal, deliveryLatencySeconds } from '../../src/metrics/registry';
import type { DeliveryRecord } from '../../src/reporting/types';
import { destinationOf } from '../../src/doctor/checks';
import { exitCodeOf, formatReport } from '../../src/cli/doctor';

describe('notifier', () => {
  it('raises an id once, keeps the newest within capacity, and a throwing listener stops no one', () => {
    const errors: unknown[] = [];
    const n = createNotifier({ capacity: 2, onListenerError: (e) => errors.push(e) });
    const seen: string[] = [];
    n.subscribe(() => {
      throw new Error('broken page');
    });
    const stop = n.subscribe((x) => seen.push(x.id));
    const base = { kind: 'file.failed' as const, severity: 'warning' as const, title: 't', message: 'm' };
    expect(n.notify({ ...base, id: 'a' })).not.toBeNull();
    expect(n.notify({ ...base, id: 'a' })).toBeNull();
    n.notify({ ...base, id: 'b' });
    n.notify({ ...base, id: 'c' });
    expect(n.recent().map((x) => x.id)).toEqual(['c', 'b']);
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(errors).toHaveLength(3);
    stop();
    n.notify({ ...base, id: 'd' });
    expect(seen).toEqual(['a', 'b', 'c']);
    // Fell out of the ring: the same id may be raised again.
    expect(n.notify({ ...base, id: 'a' })).not.toBeNull();
  });

  it('words a failed file as one sentence that says where the file went', () => {
    const n = notifyFileFailed(createNotifier(), { workflowId: 'file:x/y/a.csv', runId: 'r1', filePath: '/drop/x/y/a.csv', status: 'error', message: 'Row 2 has 3 fields. ', archivedTo: '/drop/x/y/error/20241201T000000Z_a.csv' });
    expect(n?.message).toBe('Row 2 has 3 fields. Fix the file and drop it again; the original and its .error.json are in /drop/x/y/error.');
    expect(n?.id).toBe('file.failed:file:x/y/a.csv:r1');
  });

  it('reads the delivery error as CODE: message', () => {
    expect(deliveryErrorText('{"code":"REMOTE_REJECTED","message":"422","permanent":true}')).toBe('REMOTE_REJECTED: 422');
    expect(deliveryErrorText('plain text')).toBe('plain text');
    expect(deliveryErrorText(null)).toBeNull();
  });
});

describe('delivery announcements', () => {
  it('audit each status change once, with the ids that join it, and count attempts by channel and outcome', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino(new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } }));
    const d = {
      deliveryId: 'dlv_1', subscriptionId: 'sub_1', subscriberId: 'desk-7', reportId: 'r1', reportType: 'RISK_REPORT', channel: 'SFTP', status: 'failed',
      retryCount: 2, replayCount: 0, errorDetails: '{"code":"AUTH_FAILED","message":"bad key"}', workflowId: 'delivery:dlv_1', runId: 'run-1', latencyMs: null,
    } as unknown as DeliveryRecord;
    announceDeliveryChange(log, d);
    announceDeliveryChange(log, d); // the run records the attempt's final status again
    announceDeliveryChange(log, { ...d, status: 'delivered', replayCount: 1, retryCount: 0, latencyMs: 120, errorDetails: null });
    expect(lines.map((l) => l.event)).toEqual(['delivery.failed', 'delivery.delivered']);
    expect(lines[0]).toMatchObject({ audit: true, deliveryId: 'dlv_1', workflowId: 'delivery:dlv_1', runId: 'run-1', channel: 'SFTP', error: 'AUTH_FAILED: bad key' });
    const counted = (await deliveriesTotal.get()).values.filter((v) => v.labels.channel === 'SFTP');
    expect(counted.map((v) => [v.labels.outcome, v.value]).sort()).toEqual([['delivered', 1], ['failed', 1]]);
    expect((await deliveryLatencySeconds.get()).values.find((v) => v.metricName === 'refdata_delivery_latency_seconds_sum' && v.labels.channel === 'SFTP')?.value).toBe(0.12);
  });
});

describe('doctor', () => {
  it('shows channel destinations as host:port only, never credentials or sealed secrets', () => {
    expect(destinationOf('API_WEBHOOK', { url: 'https://user:pw@hooks.example.com/in?token=s3cret' })).toBe('hooks.example.com:443');
    expect(destinationOf('API_WEBHOOK', { url: 'http://10.0.0.5:8080/x' })).toBe('10.0.0.5:8080');
    expect(destinationOf('SLACK_INTEGRATION', { webhookUrl: 'sealed:k1:aa:bb:cc' })).toBe('hooks.slack.com:443');
    expect(destinationOf('SFTP', { host: 'sftp.example.com', auth: { type: 'password', password: 'sealed:x' } })).toBe('sftp.example.com:22');
    expect(destinationOf('EMAIL', { host: 'smtp.example.com', port: 465 })).toBe('smtp.example.com:465');
    expect(destinationOf('MOBILE_PUSH', { subscription: { endpoint: 'https://fcm.googleapis.com/fcm/send/abc' } })).toBe('fcm.googleapis.com:443');
    expect(destinationOf('DASHBOARD_NOTIFICATION', {})).toBeNull();
  });

  it('prints each finding with its fix, and fails only on problems unless strict', () => {
    const results = [
      { area: 'temporal', level: 'ok' as const, detail: 'reachable' },
      { area: 'schedules', level: 'warn' as const, detail: 'paused by an operator', fix: 'unpause it' },
    ];
    expect(formatReport(results)).toBe('✔ temporal   reachable\n! schedules  paused by an operator\n             fix: unpause it\n\nno problems, 1 warning\n');
    expect(exitCodeOf(results)).toBe(0);
    expect(exitCodeOf(results, true)).toBe(1);
    expect(exitCodeOf([...results, { area: 'database', level: 'fail', detail: 'down', fix: 'start it' }])).toBe(1);
  });
});
