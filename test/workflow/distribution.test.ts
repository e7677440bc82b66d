// distribution and scheduledDistribution on a real dev server with in-memory activities: steps, failures, the
// per-date lock, and the business date a Schedule's (backfilled) run derives from its scheduled time.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client, Connection, ScheduleOverlapPolicy, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { resolveTemporalCli } from '../../src/temporal/cli-path';
import { distributionWorkflowId, taskQueues } from '../../src/ids';
import type { RunFile } from '../../src/db/distribution-runs';
import { distribution, distributionProgressQuery, scheduledDistribution, type DistributionInput } from '../../workflows/distribution';
import { startDistribution } from '../../src/distribution/start';
import { namespaceFor, waitFor } from '../e2e/harness';

interface World {
  calls: string[];
  fail?: { activity: string; type: string; message: string };
  generateDelayMs?: number;
  claims: Array<{ runId: string; businessDate: string; trigger: string }>;
}

const world: World = { calls: [], claims: [] };
const files: RunFile[] = [
  { name: '20240301_full.csv', type: 'full', dataset: 'instruments', rows: 3, bytes: 100, sha256: 'a'.repeat(64) },
  { name: '20240301_manifest.json', type: 'manifest', dataset: 'instruments', rows: 1, bytes: 50, sha256: 'b'.repeat(64) },
];

function fakeActivities() {
  const step = async (name: string) => {
    world.calls.push(name);
    if (world.fail?.activity === name) throw ApplicationFailure.nonRetryable(world.fail.message, world.fail.type);
  };
  return {
    async claimDistributionRun(input: { runId: string; businessDate: string; trigger: string; submissionId: string }) {
      await step('claimDistributionRun');
      world.claims.push({ runId: input.runId, businessDate: input.businessDate, trigger: input.trigger });
      return { runId: input.runId, submissionId: input.submissionId, watermark: { from: null, to: '2024-03-01T18:30:00.000000Z' }, reused: false, attempts: 1, directory: '/srv' };
    },
    async generateDistributionFiles() {
      await step('generateDistributionFiles');
      if (world.generateDelayMs) await new Promise((r) => setTimeout(r, world.generateDelayMs));
      return files;
    },
    async backUpDistributionFiles() {
      await step('backUpDistributionFiles');
      return { directory: '/backup', copied: 2, pruned: 0 };
    },
    async handOffDistribution() {
      await step('handOffDistribution');
      return ['dlv_1', 'dlv_2'];
    },
    async finishDistributionRun(input: { status: string }) {
      world.calls.push(`finishDistributionRun:${input.status}`);
    },
  };
}

let connection: Connection;
let client: Client;
let native: NativeConnection;
let worker: Worker;
let running: Promise<void>;
const namespace = namespaceFor(__filename);
const taskQueue = taskQueues.distribution;

beforeAll(async () => {
  const address = inject('temporalAddress');
  connection = await Connection.connect({ address });
  client = new Client({ connection, namespace });
  native = await NativeConnection.connect({ address });
  worker = await Worker.create({
    connection: native, namespace, taskQueue,
    ...(inject('workflowBundlePath') ? { workflowBundle: { codePath: inject('workflowBundlePath') } } : { workflowsPath: require.resolve('../../workflows') }),
    activities: fakeActivities(),
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await native?.close();
  await connection?.close();
});

function reset(over: Partial<World> = {}): void {
  world.calls.length = 0;
  world.claims.length = 0;
  world.fail = over.fail;
  world.generateDelayMs = over.generateDelayMs;
}

const input = (over: Partial<DistributionInput> = {}): DistributionInput => ({ businessDate: '2024-03-01', kind: 'full', trigger: 'cli', ...over });

describe('distribution', () => {
  it('claims, generates, backs up, hands off, records success, and returns the files and deliveries', async () => {
    reset();
    const handle = await client.workflow.start(distribution, { taskQueue, workflowId: `dist-ok-${Date.now()}`, args: [input()] });
    const r = await handle.result();
    expect(r).toMatchObject({ runId: '20240301', watermark: { from: null }, reused: false, files, deliveryIds: ['dlv_1', 'dlv_2'] });
    expect(world.calls).toEqual(['claimDistributionRun', 'generateDistributionFiles', 'backUpDistributionFiles', 'handOffDistribution', 'finishDistributionRun:succeeded']);
    expect(await handle.query(distributionProgressQuery)).toMatchObject({ phase: 'done', runId: '20240301', deliveryIds: ['dlv_1', 'dlv_2'] });
  });

  it('an intraday delta runs under its own key', async () => {
    reset();
    const r = await client.workflow.execute(distribution, { taskQueue, workflowId: `dist-delta-${Date.now()}`, args: [input({ kind: 'delta', suffix: '143015' })] });
    expect(r.runId).toBe('20240301T143015');
  });

  it('a failed step fails the run with its type and records it; nothing is handed off', async () => {
    reset({ fail: { activity: 'generateDistributionFiles', type: 'Internal', message: 'disk full' } });
    const err = await client.workflow.execute(distribution, { taskQueue, workflowId: `dist-fail-${Date.now()}`, args: [input()] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(((err as WorkflowFailedError).cause as ApplicationFailure).message).toBe('disk full');
    expect(world.calls).toEqual(['claimDistributionRun', 'generateDistributionFiles', 'finishDistributionRun:failed']);
  });

  it('cancellation while generating records the run as cancelled', async () => {
    reset({ generateDelayMs: 3000 });
    const handle = await client.workflow.start(distribution, { taskQueue, workflowId: `dist-cancel-${Date.now()}`, args: [input()] });
    await waitFor('generating', async () => (await handle.query(distributionProgressQuery)).phase === 'generating');
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    expect(world.calls.at(-1)).toBe('finishDistributionRun:cancelled');
  });
});

describe('one run per business date', () => {
  it('a second start of a running date gets its ids; the scheduled workflow skips instead of starting another', async () => {
    reset({ generateDelayMs: 2000 });
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const first = await startDistribution(client, { kind: 'full', businessDate: yesterday, suffix: null }, 'cli');
    expect(first.started).toBe(true);
    const second = await startDistribution(client, { kind: 'full', businessDate: yesterday, suffix: null }, 'api');
    expect(second).toEqual({ started: false, runId: first.runId, workflowId: first.workflowId, workflowRunId: first.workflowRunId });
    const scheduled = await client.workflow.execute(scheduledDistribution, { taskQueue, workflowId: `sched-skip-${Date.now()}`, args: [{ timeZone: 'UTC', lagDays: 1 }] });
    expect(scheduled).toMatchObject({ status: 'skipped' });
    await client.workflow.getHandle(first.workflowId, first.workflowRunId).result();
    expect(world.claims.filter((c) => c.runId === first.runId)).toHaveLength(1);
  });

  it('a date that finished may run again (re-run), through the same id', async () => {
    reset();
    const again = await startDistribution(client, { kind: 'full', businessDate: '2024-03-01', suffix: null }, 'cli');
    expect(again).toMatchObject({ started: true, workflowId: distributionWorkflowId('20240301') });
    await client.workflow.getHandle(again.workflowId, again.workflowRunId).result();
  });
});

describe('the nightly schedule', () => {
  it('a backfilled night (missed while the system was down) distributes the business date of its scheduled time', async () => {
    reset();
    const scheduleId = `dist-schedule-${Date.now()}`;
    const handle = await client.schedule.create({
      scheduleId,
      spec: { cronExpressions: ['0 1 * * *'], timezone: 'Asia/Kolkata' },
      action: { type: 'startWorkflow', workflowType: 'scheduledDistribution', workflowId: `sched-${scheduleId}`, taskQueue, args: [{ timeZone: 'Asia/Kolkata', lagDays: 1 }] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
      state: { paused: true },
    });
    try {
      // 01:00 IST on 2024-02-11 = 19:30 UTC on the 10th: the night that sends 2024-02-10.
      await handle.backfill({ start: new Date('2024-02-10T19:00:00Z'), end: new Date('2024-02-10T20:00:00Z'), overlap: ScheduleOverlapPolicy.ALLOW_ALL });
      await waitFor('the backfilled night', async () => world.claims.find((c) => c.runId === '20240210'), 30_000);
      expect(world.claims.find((c) => c.runId === '20240210')).toEqual({ runId: '20240210', businessDate: '2024-02-10', trigger: 'schedule' });
      const child = await client.workflow.getHandle(distributionWorkflowId('20240210')).describe();
      expect(child.searchAttributes.BusinessDate).toEqual(['2024-02-10']);
    } finally {
      await handle.delete();
    }
  });
});

describe.skipIf(process.env.RECORD_HISTORIES !== '1')('histories for the replay test (RECORD_HISTORIES=1)', () => {
  const save = (workflowId: string, file: string) => {
    // The CLI writes the canonical JSON form that Worker.runReplayHistory reads.
    const json = execFileSync(resolveTemporalCli(), ['workflow', 'show', '--workflow-id', workflowId, '--namespace', namespace, '--address', inject('temporalAddress'), '--output', 'json']);
    fs.writeFileSync(path.join(__dirname, 'histories', file), json);
  };

  it('records a successful run, a failed one and a scheduled one', async () => {
    reset();
    await client.workflow.execute(distribution, { taskQueue, workflowId: 'replay-distribution-succeeded', args: [input()] });
    save('replay-distribution-succeeded', 'distribution-succeeded.json');
    reset({ fail: { activity: 'handOffDistribution', type: 'Internal', message: 'delivery service down' } });
    await client.workflow.execute(distribution, { taskQueue, workflowId: 'replay-distribution-failed', args: [input({ businessDate: '2024-03-02' })] }).catch(() => undefined);
    save('replay-distribution-failed', 'distribution-failed.json');
    reset();
    await client.workflow.execute(scheduledDistribution, { taskQueue, workflowId: 'replay-distribution-scheduled', args: [{ timeZone: 'UTC', lagDays: 1 }] });
    save('replay-distribution-scheduled', 'distribution-scheduled.json');
  });
});
