// DASHBOARD_NOTIFICATION with an in-memory sink (our own code, not an external server): shape, idempotence, failures.
import { describe, expect, it } from 'vitest';
import { ChannelError, type DashboardNotification, type NotificationSink } from '../../../src/channels';
import { createDashboardSender, dashboardConfigSchema } from '../../../src/channels/dashboard';
import { deliveryMessage, failureOf, loopbackContext } from './fixtures';

/** Upserts by id, as the database-backed sink must. */
class MemorySink implements NotificationSink {
  readonly byId = new Map<string, DashboardNotification>();
  publishes = 0;
  async publish(n: DashboardNotification): Promise<void> {
    this.publishes++;
    this.byId.set(n.id, n);
  }
}

const config = dashboardConfigSchema.parse({ severity: 'warning', audience: ['client_001'] });

describe('DASHBOARD_NOTIFICATION', () => {
  it('publishes one notification per delivery, keyed by the delivery id, even when retried', async () => {
    const sink = new MemorySink();
    const sender = createDashboardSender(sink);
    const msg = deliveryMessage({
      attachments: [{ fileName: 'a.csv', path: '/nowhere/a.csv', contentType: 'text/csv', bytes: 10, sha256: 'ab'.repeat(32), url: 'https://x/a.csv' }],
    });
    const result = await sender.send(msg, config, loopbackContext());
    await sender.send(msg, config, loopbackContext());

    expect(sink.publishes).toBe(2);
    expect([...sink.byId.keys()]).toEqual([msg.deliveryId]);
    expect(sink.byId.get(msg.deliveryId)).toEqual({
      id: msg.deliveryId,
      createdAt: msg.createdAt,
      severity: 'warning',
      audience: ['client_001'],
      reportId: msg.reportId,
      reportType: msg.reportType,
      title: msg.title,
      summary: msg.summary,
      link: msg.link,
      files: [{ fileName: 'a.csv', bytes: 10, sha256: 'ab'.repeat(32), url: 'https://x/a.csv' }],
      metadata: msg.metadata,
    });
    expect(result).toMatchObject({ status: 'delivered', remoteId: msg.deliveryId });
  });

  it('turns a failing sink into a retryable error, and keeps a ChannelError the sink chose', async () => {
    const broken = createDashboardSender({ publish: () => Promise.reject(new Error('database is restarting')) });
    expect(await failureOf(broken.send(deliveryMessage(), config, loopbackContext()))).toMatchObject({ code: 'REMOTE_TEMPORARY', permanent: false });
    const refusing = createDashboardSender({ publish: () => Promise.reject(new ChannelError('INVALID_MESSAGE', 'no audience', { permanent: true })) });
    expect(await failureOf(refusing.send(deliveryMessage(), config, loopbackContext()))).toMatchObject({ code: 'INVALID_MESSAGE', permanent: true });
  });

  it('gives up on a sink that hangs past the timeout', async () => {
    const hanging = createDashboardSender({ publish: () => new Promise<void>(() => undefined) });
    expect(await failureOf(hanging.send(deliveryMessage(), config, loopbackContext({ timeoutMs: 100 })))).toMatchObject({ code: 'TIMEOUT', permanent: false });
  });
});
