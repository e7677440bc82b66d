// The reliability test: 2,000 deliveries to a receiver that answers 500 to 30 % of requests and stalls past
// the timeout on 5 %: every delivery ends delivered and the receiver, deduplicating on webhook-id, counts exactly 2,000.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './harness';
import type { FlakyReceiver } from '../support/peers/flaky-webhook';
import type { ReportingSystem } from '../support/reporting-system';
import { deliverReports, startLoadScenario, subscribeWebhooks, type LoadScenario } from '../support/delivery-load';

const SUBSCRIBERS = 20;
const REPORTS = 100;
const TOTAL = SUBSCRIBERS * REPORTS;
let scenario: LoadScenario;
let sys: ReportingSystem;
let receiver: FlakyReceiver;
let counter: LoadScenario['counter'];

beforeAll(async () => {
  scenario = await startLoadScenario({ testFile: __filename, worker: 'in-process', deadlineMs: 150_000 });
  ({ sys, receiver, counter } = scenario);
});

afterAll(async () => scenario?.stop());

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
