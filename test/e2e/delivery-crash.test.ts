// The reliability test with the worker killed: 2,000 deliveries through 30 % errors and 5 % stalls, the `refdata worker`
// process SIGKILLed midway and another started: every delivery ends delivered; the receiver counts exactly 2,000.
import type { ChildProcess } from 'node:child_process';
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
  sys = await startReportingSystem({
    testFile: __filename,
    // Channel health as configured by default, but probed within a second or two: a channel paused near the end of
    // the run (it can be: the tail of a channel's deliveries may fail 5 times in a row after a quiet minute) must
    // not push the run past its bound while its probes back off from 30 s.
    channelHealth: { ...defaultChannelHealthSettings, probeInitialMs: 1_000, probeMaxMs: 2_000 },
    retry: fastPolicies({ attemptTimeoutMs: 500, initialIntervalMs: 200, backoffCoefficient: 1.5, maximumIntervalMs: 1_000, deadlineMs: 170_000 }),
    worker: 'child',
    ownTemporal: true,
  });
  counter = statusCounter(sys.dbUrl);
  receiver = await startFlakyReceiver({ errorShare: 0.3, stallShare: 0.05, stallMs: 1_500, seed: 7 });
});

afterAll(async () => {
  await counter?.close();
  await receiver?.close();
  await sys?.stop();
});

const exited = (child: ChildProcess) => new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));

describe('delivery reliability with kill -9', () => {
  it(`${TOTAL} deliveries survive a SIGKILLed worker: all delivered, exactly ${TOTAL} received`, async () => {
    const operator = await sys.key('operator');
    await subscribeWebhooks(sys, operator, SUBSCRIBERS, receiver.url);
    const first = sys.spawnWorker();
    const started = Date.now();
    const ids = await deliverReports(sys, operator, REPORTS, 'crash');
    expect(new Set(ids).size).toBe(TOTAL);
    // Midway: some delivered, many not.
    await waitFor('a third delivered', async () => receiver.accepted.size >= TOTAL / 3, 90_000);
    first.kill('SIGKILL');
    await exited(first);
    const atKill = receiver.accepted.size;
    expect(atKill).toBeLessThan(TOTAL);
    sys.spawnWorker();
    await waitFor('every delivery delivered', async () => (await counter.counts()).delivered === TOTAL, 140_000);
    const elapsed = Date.now() - started;
    const counts = await counter.counts();
    expect(receiver.accepted.size).toBe(TOTAL);
    expect(ids.every((id) => receiver.accepted.has(id))).toBe(true);
    expect(counts).toMatchObject({ delivered: TOTAL });
    process.stderr.write(`${JSON.stringify({ test: 'delivery-crash', deliveries: TOTAL, deliveredAtKill: atKill, allDeliveredMs: elapsed, receiver: { ...receiver.stats, unique: receiver.accepted.size, duplicates: receiver.duplicates }, retried: counts.retried, maxRetries: counts.maxRetries })}\n`);
  }, 240_000);
});
