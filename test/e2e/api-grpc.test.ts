// `refdata api` as a process serves the gRPC ReportingStream beside REST, with the same keys (REFDATA_ADMIN_KEY and stored ones).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import { createApiKey } from '../../src/reporting/api-keys';
import { reportingServiceDefinition } from '../../src/grpc/server';
import type { SubscriptionResponseMsg } from '../../src/grpc/messages';
import { ensureDropFolders } from '../../src/watcher';
import { createTestDatabase } from '../support/pg';
import { namespaceForTestFile } from '../support/namespaces';

const bin = path.join(__dirname, '../../bin/refdata');
const ADMIN_KEY = `admin_${randomBytes(16).toString('hex')}`;
const definition = reportingServiceDefinition();

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('refdata api serves gRPC ReportingStream', () => {
  let proc: ChildProcess;
  let client: grpc.Client;
  let apiUrl: string;
  let subscriberKey: string;
  let cleanup: () => Promise<void>;
  let stderr = '';

  beforeAll(async () => {
    const tdb = await createTestDatabase(inject('pgUrl'));
    const db = createPostgresDatabase(createNodePgExecutor(tdb.url), 'postgres');
    await db.migrate();
    subscriberKey = (await createApiKey(db.distribution, { role: 'subscriber', subscriberId: 'client_api' })).key;
    await db.close();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'refdata-api-grpc-'));
    await ensureDropFolders(path.join(dir, 'dropoff'));
    const [apiPort, grpcPort] = [await freePort(), await freePort()];
    apiUrl = `http://127.0.0.1:${apiPort}`;
    proc = spawn(process.execPath, [bin, 'api'], {
      env: {
        PATH: process.env.PATH ?? '', HOME: os.homedir(), LOG_LEVEL: 'warn',
        DATABASE_URL: tdb.url, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: namespaceForTestFile(__filename),
        REFDATA_DROPOFF_DIR: path.join(dir, 'dropoff'), REFDATA_STATE_DIR: path.join(dir, 'state'),
        REFDATA_API_HOST: '127.0.0.1', REFDATA_API_PORT: String(apiPort), REFDATA_GRPC_PORT: String(grpcPort), REFDATA_ADMIN_KEY: ADMIN_KEY,
        REFDATA_ALLOW_PRIVATE_DESTINATIONS: 'true',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    // Ready once REST answers; the gRPC server starts right after it.
    for (let i = 0; ; i++) {
      if (proc.exitCode !== null) throw new Error(`refdata api exited ${proc.exitCode}: ${stderr}`);
      if (await fetch(`${apiUrl}/health`).then(() => true, () => false)) break;
      if (i > 600) throw new Error(`refdata api did not answer: ${stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    client = new grpc.Client(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
    await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 30_000, (err) => (err ? reject(err) : resolve())));
    cleanup = async () => {
      await fs.rm(dir, { recursive: true, force: true });
      await tdb.drop();
    };
  });
  afterAll(async () => {
    client?.close();
    if (proc && proc.exitCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      await exited;
    }
    await cleanup?.();
  });

  function call<Res>(method: 'ManageSubscription' | 'GetDeliveryStatus', req: object, key?: string): Promise<Res> {
    const m = definition[method] as grpc.MethodDefinition<object, Res>;
    const metadata = new grpc.Metadata();
    if (key) metadata.set('authorization', `Bearer ${key}`);
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, req, metadata, (err, res) => (err ? reject(err) : resolve(res!)));
    });
  }

  it('creates a subscription with the admin key, and REST sees it; a stored subscriber key reads through gRPC', async () => {
    const res = await call<SubscriptionResponseMsg>('ManageSubscription', {
      action: 'CREATE',
      subscription: {
        subscription_id: 'sub_api_grpc', subscriber_id: 'client_api', subscriber_type: 'REAL_TIME', report_types: ['RISK_REPORT'],
        delivery_preferences: { channels: [{ channel_type: 'DASHBOARD_NOTIFICATION' }], format_preferences: ['pdf'] },
      },
    }, ADMIN_KEY);
    expect(res).toMatchObject({ subscription_id: 'sub_api_grpc', status: 'active' });
    const rest = await fetch(`${apiUrl}/api/v1/reporting/subscriptions/client_api`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(rest.status).toBe(200);
    expect(((await rest.json()) as { subscriptions: Array<{ subscription_id: string }> }).subscriptions.map((s) => s.subscription_id)).toEqual(['sub_api_grpc']);
    // The subscriber key is accepted (the refusal is about the delivery, not the key).
    await expect(call('GetDeliveryStatus', { delivery_id: 'dlv_none' }, subscriberKey)).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    const paused = await call<SubscriptionResponseMsg>('ManageSubscription', { action: 'PAUSE', subscription_id: 'sub_api_grpc' }, subscriberKey);
    expect(paused.status).toBe('paused');
  });

  it('refuses a call without a key or with an unknown one', async () => {
    await expect(call('GetDeliveryStatus', { delivery_id: 'dlv_none' })).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    await expect(call('GetDeliveryStatus', { delivery_id: 'dlv_none' }, `unknown_${randomBytes(12).toString('hex')}`)).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
  });
});
