// The delivery workflow on a real dev server with the real activities and PostgreSQL, and a scripted channel sender.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { ChannelError } from '../../src/channels';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { Database } from '../../src/db/types';
import { deliveryWorkflowId, taskQueues } from '../../src/ids';
import { silentLogger } from '../../src/log/logger';
import { cliCaller } from '../../src/reporting/api-keys';
import { deliver, replayDelivery, type DeliveryDeps } from '../../src/reporting/deliveries';
import { createDeliveryNotifier, type DeliveryStatusChange } from '../../src/reporting/notifier';
import { resolveTemporalCli } from '../../src/temporal/cli-path';
import { createDeliveryActivities } from '../../activities/delivery';
import { channelRecoveredSignal, deliveryProgressQuery, type DeliveryResult } from '../../workflows/delivery';
import { namespaceFor, waitFor } from '../e2e/harness';
import { createTestDatabase } from '../support/pg';
import { addSubscription, fastPolicies, memoryEvents, scriptedSender, testSecretsKey } from '../support/reporting';

const namespace = namespaceFor(__filename);
const sender = scriptedSender();
const events = memoryEvents();
const feed = createDeliveryNotifier();
const changes: DeliveryStatusChange[] = [];
let db: Database;
let dropDb: () => Promise<void>;
let connection: Connection;
let client: Client;
let native: NativeConnection;
let workers: Worker[] = [];
let running: Promise<void>[] = [];
let deps: DeliveryDeps;

beforeAll(async () => {
  const tdb = await createTestDatabase(inject('pgUrl'));
  dropDb = tdb.drop;
  db = createPostgresDatabase(createNodePgExecutor(tdb.url), 'postgres');
  await db.migrate();
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace });
  native = await NativeConnection.connect({ address: inject('temporalAddress') });
  const activities = createDeliveryActivities({
    db, log: silentLogger(), channels: sender, secretsKey: testSecretsKey, allowPrivateNetworks: false, events,
    // Channels here never pause by themselves (the scripted failures would otherwise add up); the held test pauses one.
    channelHealth: { unhealthyAfter: 0, probeInitialMs: 60_000, probeMaxMs: 60_000 },
    notifier: { publish: (c) => (changes.push(c), feed.publish(c)), subscribe: feed.subscribe },
  });
  const bundle = inject('workflowBundlePath') ? { workflowBundle: { codePath: inject('workflowBundlePath') } } : { workflowsPath: require.resolve('../../workflows') };
  // The bulk queue gets two activity slots, so the priority test can fill it.
  workers = await Promise.all([
    Worker.create({ connection: native, namespace, taskQueue: taskQueues.delivery, ...bundle, activities, maxConcurrentActivityTaskExecutions: 2 }),
    Worker.create({ connection: native, namespace, taskQueue: taskQueues.deliveryPriority, ...bundle, activities }),
  ]);
  running = workers.map((w) => w.run());
  deps = { db, client, reportRoots: [], retry: fastPolicies() };
});

afterAll(async () => {
  for (const w of workers) w.shutdown();
  await Promise.all(running);
  await native?.close();
  await connection?.close();
  await db?.close();
  await dropDb?.();
});

let n = 0;
async function deliverOne(subscriberId: string, opts: { priority?: number; deps?: DeliveryDeps; reportId?: string } = {}) {
  const reportId = opts.reportId ?? `r_${subscriberId}_${++n}`;
  const res = await deliver(opts.deps ?? deps, {
    report: { report_id: reportId, report_type: 'RISK_REPORT', portfolio_id: 'portfolio_001', report_period: '2025-06', content: { content_type: 'text/plain', text: 'VaR up' } },
    target_subscribers: [subscriberId],
    priority: opts.priority,
  });
  expect(res.deliveries).toHaveLength(1);
  return { deliveryId: res.deliveries[0].delivery_id, handle: client.workflow.getHandle(res.deliveries[0].workflow_id) };
}

const fiveHundred = () => new ChannelError('HTTP_5XX', 'peer answered HTTP 500', { permanent: false, status: 500 });

describe('delivery workflow', () => {
  it('delivers, records the attempt, counts it, and publishes report_distributed in the original shape', async () => {
    await addSubscription(db, { subscriberId: 'ok1' });
    const { deliveryId, handle } = await deliverOne('ok1');
    const result = (await handle.result()) as DeliveryResult;
    expect(result).toMatchObject({ status: 'delivered', attempts: 1, replay: false });
    expect(await db.distribution.getDelivery(deliveryId)).toMatchObject({ status: 'delivered', retryCount: 0 });
    // The sender got the opened (unsealed) secret, not the stored ciphertext.
    const call = sender.calls.find((c) => c.deliveryId === deliveryId)!;
    expect((call.config as { secret: string }).secret).toMatch(/^whsec_/);
    const event = events.events.find((e) => e.eventId === result.eventId)!;
    expect(event).toMatchObject({ topic: 'reporting.risk.delivered', key: 'portfolio_001.risk.2025-06' });
    expect(event.payload).toEqual({
      event_id: result.eventId,
      timestamp: expect.any(String),
      distribution: { topic: 'reporting.risk.delivered', routing_key: 'portfolio_001.risk.2025-06', target_subscribers: ['ok1'], delivery_channels: ['API_WEBHOOK'], scope: 'delivery' },
      report_data: { report_id: expect.any(String), report_type: 'RISK_REPORT', portfolio_id: 'portfolio_001', report_period: '2025-06', file_path: null, file_size_bytes: null },
      metadata: { source_service: 'refdata', delivery_priority: 3, encryption_required: false, retention_days: 90 },
    });
    const desc = await handle.describe();
    expect(desc.taskQueue).toBe('delivery');
    expect(desc.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value])).toEqual(
      expect.arrayContaining([['SubscriberId', 'ok1'], ['Channel', 'API_WEBHOOK'], ['ReportType', 'RISK_REPORT']]),
    );
  });

  it('retries a 500 with backoff, updating delivery_history on every attempt, and delivers once', async () => {
    await addSubscription(db, { subscriberId: 'retry1' });
    sender.scriptReport('r_retry1_', () => [fiveHundred(), fiveHundred()]);
    // The dev server runs retry timers with about a second of granularity: intervals below that all look alike.
    const backoff = { ...deps, retry: fastPolicies({ initialIntervalMs: 1_000, backoffCoefficient: 2, maximumIntervalMs: 5_000 }) };
    const { deliveryId, handle } = await deliverOne('retry1', { deps: backoff });
    const result = (await handle.result()) as DeliveryResult;
    expect(result.attempts).toBe(3);
    const seen = changes.filter((c) => c.delivery_id === deliveryId).map((c) => `${c.status}:${c.retry_count}`);
    expect(seen).toEqual(['sending:0', 'retrying:0', 'sending:1', 'retrying:1', 'sending:2', 'delivered:2']);
    const d = (await db.distribution.getDelivery(deliveryId))!;
    expect(d).toMatchObject({ status: 'delivered', retryCount: 2 });
    // The last error stays beside the delivered status for the operator.
    expect(JSON.parse(d.errorDetails!)).toMatchObject({ code: 'HTTP_5XX', status: 500 });
    const gaps = sender.calls.filter((c) => c.deliveryId === deliveryId).map((c, i, all) => (i ? c.at - all[i - 1].at : 0));
    // Lower bounds only (load can stretch a gap, never shorten it): the backoff's 1 s, then its doubled 2 s.
    expect(gaps[1]).toBeGreaterThanOrEqual(900);
    expect(gaps[2]).toBeGreaterThanOrEqual(1_800);
    expect(events.events.filter((e) => e.eventId === result.eventId)).toHaveLength(1);
  });

  it('an event the attempt could not publish is published by the workflow, with the same event id', async () => {
    await addSubscription(db, { subscriberId: 'ev1' });
    events.failures = 2;
    const { handle } = await deliverOne('ev1');
    const result = (await handle.result()) as DeliveryResult;
    expect(events.events.filter((e) => e.eventId === result.eventId)).toHaveLength(1);
    expect(sender.calls.filter((c) => c.message.reportId.startsWith('r_ev1_'))).toHaveLength(1);
  });

  it('a permanent error (4xx) fails at once, non-retryable, with the channel\'s code in history', async () => {
    await addSubscription(db, { subscriberId: 'perm1' });
    sender.scriptReport('r_perm1_', () => [new ChannelError('HTTP_4XX', 'peer answered HTTP 400', { permanent: true, status: 400 })]);
    const { deliveryId, handle } = await deliverOne('perm1');
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(((err as WorkflowFailedError).cause as { type?: string }).type).toBe('DeliveryFailed');
    expect(sender.calls.filter((c) => c.deliveryId === deliveryId)).toHaveLength(1);
    const d = (await db.distribution.getDelivery(deliveryId))!;
    expect(d.status).toBe('failed');
    expect(JSON.parse(d.errorDetails!)).toMatchObject({ code: 'HTTP_4XX', permanent: true });
  });

  it('honours Retry-After (clamped to the maximum interval) as the next retry delay', async () => {
    await addSubscription(db, { subscriberId: 'slow1' });
    sender.scriptReport('r_slow1_', () => [new ChannelError('RATE_LIMITED', '429', { permanent: false, status: 429, retryAfterMs: 1_500 })]);
    const slow = { ...deps, retry: fastPolicies({ maximumIntervalMs: 5_000 }) };
    const { deliveryId, handle } = await deliverOne('slow1', { deps: slow });
    await handle.result();
    const [first, second] = sender.calls.filter((c) => c.deliveryId === deliveryId);
    expect(second.at - first.at).toBeGreaterThanOrEqual(1_400);
  });

  it('gives up at the deadline: failed with DEADLINE_EXCEEDED and the last channel error', async () => {
    await addSubscription(db, { subscriberId: 'dead1' });
    sender.scriptReport('r_dead1_', () => Array.from({ length: 1000 }, fiveHundred));
    const { deliveryId, handle } = await deliverOne('dead1', { deps: { ...deps, retry: fastPolicies({ deadlineMs: 3_000 }) } });
    const err = (await handle.result().catch((e: unknown) => e)) as WorkflowFailedError;
    expect((err.cause as { type?: string }).type).toBe('DeliveryFailed');
    expect(err.cause?.message).toMatch(/DEADLINE_EXCEEDED/);
    const d = (await db.distribution.getDelivery(deliveryId))!;
    expect(d.status).toBe('failed');
    expect(JSON.parse(d.errorDetails!)).toMatchObject({ code: 'DEADLINE_EXCEEDED', lastError: { code: 'HTTP_5XX' } });
    expect(d.retryCount).toBeGreaterThanOrEqual(1);
  });

  it('a GONE destination fails the delivery and switches the channel off', async () => {
    const { channelId } = await addSubscription(db, { subscriberId: 'gone1' });
    sender.scriptReport('r_gone1_', () => [new ChannelError('GONE', '410', { permanent: true, disable: true, status: 410 })]);
    const { handle } = await deliverOne('gone1');
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect(await db.distribution.getChannel(channelId)).toMatchObject({ enabled: false, disabledReason: expect.stringMatching(/^GONE/) });
  });

  it('priority 1 runs on its own queue and is delivered while bulk deliveries fill theirs', async () => {
    await addSubscription(db, { subscriberId: 'bulk1' });
    await addSubscription(db, { subscriberId: 'urgent1' });
    const hanging = { ...deps, retry: fastPolicies({ attemptTimeoutMs: 6_000 }) };
    sender.scriptReport('r_bulk1_', () => [{ hangMs: 4_000 }]);
    const bulk = [];
    for (let i = 0; i < 3; i++) bulk.push(await deliverOne('bulk1', { deps: hanging }));
    await waitFor('both bulk slots busy', async () => sender.calls.filter((c) => c.message.reportId.startsWith('r_bulk1_')).length >= 2);
    const urgent = await deliverOne('urgent1', { priority: 1 });
    await urgent.handle.result();
    // Order, not time: the urgent one is done while every bulk delivery still waits for a slot or hangs in one.
    expect((await urgent.handle.describe()).taskQueue).toBe('delivery-priority');
    const bulkStates = await Promise.all(bulk.map((b) => db.distribution.getDelivery(b.deliveryId)));
    expect(bulkStates.every((d) => d?.status !== 'delivered')).toBe(true);
    for (const b of bulk) await b.handle.result();
  });

  it('a paused subscription holds its delivery (retrying, nothing sent) until resumed', async () => {
    const { subscriptionId } = await addSubscription(db, { subscriberId: 'pause1' });
    sender.scriptReport('r_pause1_', () => [fiveHundred()]);
    const { deliveryId, handle } = await deliverOne('pause1');
    await waitFor('first attempt', async () => sender.calls.some((c) => c.deliveryId === deliveryId));
    await db.distribution.setSubscriptionStatus(subscriptionId, 'paused');
    await waitFor('held by the pause', async () => (await db.distribution.getDelivery(deliveryId))?.errorDetails?.includes('paused'));
    expect(sender.calls.filter((c) => c.deliveryId === deliveryId)).toHaveLength(1);
    await db.distribution.setSubscriptionStatus(subscriptionId, 'active');
    expect(((await handle.result()) as DeliveryResult).status).toBe('delivered');
    expect(sender.calls.filter((c) => c.deliveryId === deliveryId)).toHaveLength(2);
  });

  it('waits on a paused channel (status waiting, nothing sent, no attempt spent) and sends once woken', async () => {
    const { channelId } = await addSubscription(db, { subscriberId: 'held1' });
    await db.distribution.recordChannelFailure(channelId, { error: 'HTTP_5XX: down', unhealthyAfter: 1, firstProbeInMs: 60_000 });
    const { deliveryId, handle } = await deliverOne('held1');
    await waitFor('waiting', async () => (await db.distribution.getDelivery(deliveryId))?.status === 'waiting');
    expect(await db.distribution.getDelivery(deliveryId)).toMatchObject({ retryCount: 0, errorDetails: expect.stringContaining('CHANNEL_UNHEALTHY') });
    expect(sender.calls.filter((c) => c.deliveryId === deliveryId)).toHaveLength(0);
    expect((await handle.query(deliveryProgressQuery)).phase).toBe('waiting');
    // A wake-up while the channel is still paused only makes it look again.
    await handle.signal(channelRecoveredSignal);
    await new Promise((r) => setTimeout(r, 500));
    expect(sender.calls.filter((c) => c.deliveryId === deliveryId)).toHaveLength(0);
    await db.distribution.markChannelHealthy(channelId, 'operator');
    await handle.signal(channelRecoveredSignal);
    const result = (await handle.result()) as DeliveryResult;
    expect(result.attempts).toBe(1);
    expect(await db.distribution.getDelivery(deliveryId)).toMatchObject({ status: 'delivered', retryCount: 0 });
    if (process.env.RECORD_HISTORIES === '1') {
      const json = execFileSync(resolveTemporalCli(), [
        'workflow', 'show', '--workflow-id', handle.workflowId, '--namespace', namespace, '--address', inject('temporalAddress'), '--output', 'json',
      ]);
      fs.writeFileSync(path.join(__dirname, 'histories', 'delivery-waited-for-channel.json'), json);
    }
  });

  it('a replay is a new run of the same workflow id, marked as a replay, and delivers again', async () => {
    await addSubscription(db, { subscriberId: 'replay1' });
    sender.scriptReport('r_replay1_', () => [new ChannelError('AUTH_FAILED', '401', { permanent: true, status: 401 })]);
    const { deliveryId, handle } = await deliverOne('replay1');
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    const failedRun = (await handle.describe()).runId;
    sender.script(deliveryId, ['ok']);
    const replay = await replayDelivery(deps, cliCaller, deliveryId, 'receiver fixed its key');
    expect(replay).toMatchObject({ workflow_id: deliveryWorkflowId(deliveryId), replay_count: 1, replayed_run_id: failedRun });
    expect(replay.run_id).not.toBe(failedRun);
    const again = client.workflow.getHandle(deliveryWorkflowId(deliveryId), replay.run_id);
    expect(((await again.result()) as DeliveryResult).replay).toBe(true);
    expect(await (await again.describe()).staticSummary()).toMatch(/replay #1: receiver fixed its key/);
    expect(await db.distribution.getDelivery(deliveryId)).toMatchObject({ status: 'delivered', replayCount: 1, retryCount: 0 });
    // Both runs stay in Temporal's history under the one id.
    const runs: string[] = [];
    for await (const w of client.workflow.list({ query: `WorkflowId = '${deliveryWorkflowId(deliveryId)}'` })) runs.push(w.runId);
    expect(runs.sort()).toEqual([failedRun, replay.run_id].sort());
    // A replay of a running delivery is refused.
    sender.script(deliveryId, [{ hangMs: 3_000 }]);
    const third = await replayDelivery(deps, cliCaller, deliveryId);
    await expect(replayDelivery(deps, cliCaller, deliveryId)).rejects.toMatchObject({ code: 'DELIVERY_IN_PROGRESS' });
    await client.workflow.getHandle(deliveryWorkflowId(deliveryId), third.run_id).result();
  });

  it('repeating the same report creates no second delivery and starts no second run', async () => {
    await addSubscription(db, { subscriberId: 'dup1' });
    const first = await deliverOne('dup1', { reportId: 'r_dup1_same' });
    await first.handle.result();
    const res = await deliver(deps, { report: { report_id: 'r_dup1_same', report_type: 'RISK_REPORT', content: { content_type: 'text/plain', text: 'x' } }, target_subscribers: ['dup1'] });
    expect(res.deliveries).toMatchObject([{ delivery_id: first.deliveryId, new: false }]);
    expect(sender.calls.filter((c) => c.deliveryId === first.deliveryId)).toHaveLength(1);
  });

  it.skipIf(process.env.RECORD_HISTORIES !== '1')('records histories for the replay test (RECORD_HISTORIES=1)', async () => {
    const record = async (subscriberId: string, file: string, outcomes: (ChannelError | 'ok')[]) => {
      await addSubscription(db, { subscriberId });
      sender.scriptReport(`r_${subscriberId}_`, () => outcomes);
      const { handle } = await deliverOne(subscriberId);
      await handle.result().catch(() => undefined);
      const json = execFileSync(resolveTemporalCli(), [
        'workflow', 'show', '--workflow-id', handle.workflowId, '--namespace', namespace, '--address', inject('temporalAddress'), '--output', 'json',
      ]);
      fs.writeFileSync(path.join(__dirname, 'histories', file), json);
    };
    // The first attempt as a local activity (DeliveryInput.localFirstAttempt). The histories without a `local-` in their
    // name come from runs that started before it (regular activities only) and must keep replaying: runs of that code
    // may still be retrying on a server when this one is deployed.
    await record('hist1', 'delivery-local-delivered-after-retry.json', [fiveHundred()]);
    await record('hist2', 'delivery-local-failed-permanent.json', [new ChannelError('HTTP_4XX', '400', { permanent: true, status: 400 })]);
    events.failures = 1;
    await record('hist3', 'delivery-local-event-published-by-workflow.json', []);
    await record('hist4', 'delivery-local-delivered-at-once.json', []);
  });
});
