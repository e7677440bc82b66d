// Workflow `subscriptionRelease` on a real dev server with a fake activity: it releases once per run, retries a failed
// release, and reports a subscription that is not active; with RECORD_HISTORIES=1 it saves a history for the replay test.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { resolveTemporalCli } from '../../src/temporal/cli-path';
import { taskQueues } from '../../src/ids';
import { subscriptionRelease } from '../../workflows/subscription-release';
import { namespaceFor } from '../e2e/harness';

const world = { calls: [] as string[], failuresLeft: 0, status: 'active' };

const fakeActivities = {
  async releaseSubscriptionDeliveries(input: { subscriptionId: string }) {
    world.calls.push(input.subscriptionId);
    if (world.failuresLeft > 0) {
      world.failuresLeft--;
      throw new Error('database unavailable');
    }
    return world.status === 'active' ? { released: 2, skipped: null } : { released: 0, skipped: `subscription ${input.subscriptionId} is ${world.status}` };
  },
};

let connection: Connection;
let client: Client;
let native: NativeConnection;
let worker: Worker;
let running: Promise<void>;
const namespace = namespaceFor(__filename);
const taskQueue = taskQueues.delivery;

beforeAll(async () => {
  const address = inject('temporalAddress');
  connection = await Connection.connect({ address });
  client = new Client({ connection, namespace });
  native = await NativeConnection.connect({ address });
  worker = await Worker.create({
    connection: native, namespace, taskQueue,
    ...(inject('workflowBundlePath') ? { workflowBundle: { codePath: inject('workflowBundlePath') } } : { workflowsPath: require.resolve('../../workflows') }),
    activities: fakeActivities,
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await native?.close();
  await connection?.close();
});

describe('subscriptionRelease', () => {
  it('releases what the subscription holds, retrying a release that failed', async () => {
    Object.assign(world, { calls: [], failuresLeft: 1, status: 'active' });
    const result = await client.workflow.execute(subscriptionRelease, { taskQueue, workflowId: `release-${Date.now()}`, args: [{ subscriptionId: 'sub_1', trigger: 'schedule' }] });
    expect(result).toEqual({ subscriptionId: 'sub_1', released: 2, skipped: null });
    expect(world.calls).toEqual(['sub_1', 'sub_1']);
  });

  it('says why nothing went out when the subscription is not active', async () => {
    Object.assign(world, { calls: [], failuresLeft: 0, status: 'paused' });
    const result = await client.workflow.execute(subscriptionRelease, { taskQueue, workflowId: `release-paused-${Date.now()}`, args: [{ subscriptionId: 'sub_2', trigger: 'schedule' }] });
    expect(result).toEqual({ subscriptionId: 'sub_2', released: 0, skipped: 'subscription sub_2 is paused' });
  });
});

describe.skipIf(process.env.RECORD_HISTORIES !== '1')('histories for the replay test (RECORD_HISTORIES=1)', () => {
  it('records a release', async () => {
    Object.assign(world, { calls: [], failuresLeft: 0, status: 'active' });
    const workflowId = 'replay-subscription-release';
    await client.workflow.execute(subscriptionRelease, { taskQueue, workflowId, args: [{ subscriptionId: 'sub_1', trigger: 'schedule' }], workflowIdReusePolicy: 'ALLOW_DUPLICATE' });
    const json = execFileSync(resolveTemporalCli(), ['workflow', 'show', '--workflow-id', workflowId, '--namespace', namespace, '--address', inject('temporalAddress'), '--output', 'json']);
    fs.writeFileSync(path.join(__dirname, 'histories', 'subscription-release-released.json'), json);
  });
});
