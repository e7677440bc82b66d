// The reliability test: 2,000 deliveries to a receiver that answers 500 to 30 % of requests and stalls past
// the timeout on 5 %: every delivery ends delivered and the receiver, deduplicating on webhook-id, counts exactly 2,000.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './harness';
import { startFlakyReceiver, type FlakyReceiver } from '../support/peers/flaky-webhook';
import { startReportingSystem, type ReportingSystem } from '../support/reporting-system';
import { deliverReports, statusCounter, subscribeWebhooks } from '../support/delivery-load';
import { fastPolicies } from '../support/reporting';
import { defaultChannelHealthSettings } from '../../src/reporting/channel-health';

const SUBSCRIBERS = 20;
const REPORTS = 100;
const TOTAL = SUBSCRIBERS * REPORTS;
let sys: ReportingSystem;
let receiver: FlakyReceiver;
let counter: ReturnType<typeof statusCounter>;

beforeAll(async () => {
  // Fast policy: 500 ms to answer, retries about a second apart (the dev server's timer granularity), 2.5 min deadline.
  sys = await startReportingSystem({
    testFile: __filename,
    // Channel health as configured by default, but probed within a second or two: a channel paused near the end of
    // the run (it can be: the tail of a channel's deliveries may fail 5 times in a row after a quiet minute) must
    // not push the run past its bound while its probes back off from 30 s.
    channelHealth: { ...defaultChannelHealthSettings, probeInitialMs: 1_000, probeMaxMs: 2_000 },
    retry: fastPolicies({ attemptTimeoutMs: 500, initialIntervalMs: 200, backoffCoefficient: 1.5, maximumIntervalMs: 1_000, deadlineMs: 150_000 }),
    worker: 'in-process',
    ownTemporal: true,
  });
  counter = statusCounter(sys.dbUrl);
  receiver = await startFlakyReceiver({ errorShare: 0.3, stallShare: 0.05, stallMs: 1_500 });
});

afterAll(async () => {
  await counter?.close();
  await receiver?.close();
  await sys?.stop();
});

describe('delivery reliability', () => {
  it(`${TOTAL} deliveries through 30 % errors and 5 % stalls: all delivered, exactly ${TOTAL} received`, async () => {
    const operator = await sys.key('operator');
    await subscribeWebhooks(sys, operator, SUBSCRIBERS, receiver.url);
    const started = Date.now();
    const ids = await deliverReports(sys, operator, REPORTS, 'rel');
    expect(new Set(ids).size).toBe(TOTAL);
    const accepted = Date.now() - started;
    await waitFor('every delivery delivered', async () => (await counter.counts()).delivered === TOTAL, 160_000);
    const elapsed = Date.now() - started;
    const counts = await counter.counts();
    expect(receiver.accepted.size).toBe(TOTAL);
    expect([...ids].every((id) => receiver.accepted.has(id))).toBe(true);
    expect(counts).toMatchObject({ delivered: TOTAL });
    expect(counts.retried).toBeGreaterThan(TOTAL * 0.25);
    const stats = await sys.db.distribution.statsSince(new Date(Date.now() - 3 * 3600_000));
    expect(stats.find((s) => s.channel === 'API_WEBHOOK')).toMatchObject({ successful: TOTAL, failed: 0 });
    await waitFor('every report_distributed event', async () => new Set(sys.events.events.map((e) => e.eventId)).size === TOTAL, 30_000);
    process.stderr.write(`${JSON.stringify({ test: 'delivery-reliability', deliveries: TOTAL, acceptedMs: accepted, allDeliveredMs: elapsed, receiver: { ...receiver.stats, unique: receiver.accepted.size, duplicates: receiver.duplicates }, retried: counts.retried, maxRetries: counts.maxRetries })}\n`);
  }, 200_000);
});
