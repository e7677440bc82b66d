// The reliability test with the worker killed: 2,000 deliveries through 30 % errors and 5 % stalls, the `refdata worker`
// process SIGKILLed midway and another started: every delivery ends delivered; the receiver counts exactly 2,000.
import type { ChildProcess } from 'node:child_process';
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
  scenario = await startLoadScenario({ testFile: __filename, worker: 'child', deadlineMs: 170_000, seed: 7 });
  ({ sys, receiver, counter } = scenario);
});

afterAll(async () => scenario?.stop());

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
