// Operating signals of a running system: audit events that join up, /metrics (refdata's and the SDK's), thresholds, log files.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import type { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { instrumentCsv, waitFor } from './harness';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { Database } from '../../src/db/types';
import { connectTemporal, signalFileWorkflow } from '../../src/temporal/client';
import { ensureDropFolders } from '../../src/watcher';
import { buildApi } from '../../src/api/server';
import { startWorker, type RunningWorker } from '../../workers/worker';
import { createLogger } from '../../src/log/logger';
import { processNotifier } from '../../src/notify/notifier';
import { createThresholdEvaluator } from '../../src/metrics/thresholds';
import { loadConfig } from '../../src/config';
import { createTestDatabase } from '../support/pg';
import { namespaceForTestFile } from '../support/namespaces';
import type { FileLifecycleResult } from '../../workflows/file-lifecycle';

type Line = Record<string, unknown> & { event?: string; audit?: boolean };
const lines: Line[] = [];
// Every log line of the worker and the API, parsed, so tests read what an operator's log pipeline would get.
const log = pino({ level: 'info' }, new Writable({ write(chunk, _enc, done) { for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l)); done(); } }));

let db: Database;
let client: Client;
let connection: Connection;
let worker: RunningWorker;
let api: FastifyInstance;
let dropRoot: string;
let stop: () => Promise<void>;
const adminKey = 'test-admin-key-0123456789';

beforeAll(async () => {
  const tdb = await createTestDatabase(inject('pgUrl'));
  db = createPostgresDatabase(createNodePgExecutor(tdb.url), 'postgres');
  await db.migrate();
  dropRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'refdata-ops-'));
  await ensureDropFolders(dropRoot);
  const address = inject('temporalAddress');
  ({ connection, client } = await connectTemporal(address, namespaceForTestFile(__filename)));
  worker = await startWorker({ address, namespace: client.options.namespace, client, db, log, config: { dropoffDir: dropRoot, batchRows: 500 }, workflowBundlePath: inject('workflowBundlePath') || undefined });
  api = await buildApi({ db, client, log, dropRoot, adminKey });
  stop = async () => {
    await api.close();
    await worker.shutdown();
    await connection.close();
    await db.close();
    await tdb.drop();
    await fs.rm(dropRoot, { recursive: true, force: true });
  };
});
afterAll(async () => stop?.());

async function drop(folder: string, name: string, content: string): Promise<{ workflowId: string; result: FileLifecycleResult }> {
  const file = path.join(dropRoot, folder, name);
  await fs.writeFile(file, content);
  const started = await signalFileWorkflow(client, { dropRoot, filePath: file, stability: { checks: 1, intervalMs: 0, maxWaitMs: 10_000 }, skipStability: true });
  if (!('workflowId' in started)) throw new Error(started.ignored);
  const result = await client.workflow.getHandle(started.workflowId).result().catch(() => null) as FileLifecycleResult | null;
  return { workflowId: started.workflowId, result: result ?? ({ status: 'error' } as FileLifecycleResult) };
}

describe('audit events', () => {
  it('one per state change of a file and its load, joined by workflowId and loadId; a revert names the same loadId', async () => {
    const { workflowId, result } = await drop('none_reference_data_table/append', 'fills_20241201.csv', instrumentCsv(1200));
    expect(result.status).toBe('loaded');
    const audits = () => lines.filter((l) => l.audit && (l.workflowId === workflowId || l.loadId === result.loadId));
    const events = audits().map((l) => l.event);
    expect(events).toEqual(['file.claimed', 'load.started', 'load.ingested', 'load.finished', 'file.archived.processed', 'file.loaded']);
    for (const l of audits()) expect(l.workflowId).toBe(workflowId);
    for (const l of audits().filter((a) => String(a.event).startsWith('load.'))) expect(l.loadId).toBe(result.loadId);
    expect(audits().find((l) => l.event === 'load.finished')).toMatchObject({ table: 'data.fills', mode: 'append', rows: 1200 });

    const res = await api.inject({ method: 'POST', url: `/api/v1/loads/${result.loadId}/revert`, headers: { authorization: `Bearer ${adminKey}` } });
    expect(res.statusCode).toBe(200);
    expect(lines.find((l) => l.event === 'load.reverted')).toMatchObject({ audit: true, loadId: result.loadId, table: 'data.fills', rows: 1200 });
    expect(processNotifier().recent().some((n) => n.kind === 'load.reverted' && n.refs.loadId === result.loadId)).toBe(true);
  });
});

describe('/metrics', () => {
  it('has refdata\'s counters and histograms and the Temporal SDK\'s worker metrics in one scrape', async () => {
    const res = await api.inject({ method: 'GET', headers: { authorization: `Bearer ${adminKey}` }, url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    const text = res.body;
    expect(text).toMatch(/^refdata_files_total\{outcome="loaded"\} 1$/m);
    expect(text).toMatch(/^refdata_rows_loaded_total\{table="data\.fills",mode="append"\} 1200$/m);
    expect(text).toMatch(/^refdata_load_duration_seconds_count\{mode="append"\} 1$/m);
    expect(text).toMatch(/^refdata_loads_reverted_total 1$/m);
    expect(text).toMatch(/^# HELP refdata_deliveries_total /m);
    expect(text).toMatch(/^# HELP refdata_outbox_lag_seconds /m);
    expect(text).toMatch(/^refdata_worker_sdk_metrics_up 1$/m);
    expect(text).toMatch(/^temporal_workflow_completed_total\{.*workflow_type="fileLifecycle".*\} \d+$/m);
    expect(text).toMatch(/^temporal_worker_task_slots_available\{/m);
  });
});

describe('thresholds', () => {
  it('an error rate above its threshold raises a notification and a log event once, and clears when it drops', async () => {
    const failed = await drop('reference_data_table/fullload', 'venues_20241201.csv', 'code,name\nA,Alpha\nB\n');
    expect(failed.result.status).toBe('error');
    let clock = new Date();
    const config = { ...loadConfig({}).alerts, minFiles: 2, fileErrorRate: 0.05 };
    const evaluator = createThresholdEvaluator({ db, notifier: processNotifier(), log, config, now: () => clock });
    const first = await evaluator.evaluate();
    expect(first.find((s) => s.alert === 'file_error_rate')).toMatchObject({ firing: true, title: 'File error rate 50 %' });
    expect(first.filter((s) => s.firing).map((s) => s.alert)).toEqual(['file_error_rate']);
    await evaluator.evaluate();
    expect(lines.filter((l) => l.event === 'alert.raised' && l.alert === 'file_error_rate')).toHaveLength(1);
    expect(processNotifier().recent().filter((n) => n.kind === 'threshold.crossed' && n.refs.alert === 'file_error_rate')).toHaveLength(1);
    expect((await api.inject({ method: 'GET', headers: { authorization: `Bearer ${adminKey}` }, url: '/metrics' })).body).toMatch(/^refdata_alert_active\{alert="file_error_rate"\} 1$/m);

    clock = new Date(Date.now() + 2 * 60 * 60_000); // the window has moved past both files
    await evaluator.evaluate();
    expect(lines.filter((l) => l.event === 'alert.cleared' && l.alert === 'file_error_rate')).toHaveLength(1);
    expect(processNotifier().recent()[0]).toMatchObject({ kind: 'threshold.cleared' });
    expect((await api.inject({ method: 'GET', headers: { authorization: `Bearer ${adminKey}` }, url: '/metrics' })).body).toMatch(/^refdata_alert_active\{alert="file_error_rate"\} 0$/m);
  });
});

describe('log files (LOG_DIR)', () => {
  it('writes JSON lines to files rotated by size, keeping only the newest beyond the retention count', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'refdata-logs-'));
    try {
      const fileLog = createLogger({ level: 'info', format: 'json', dir, fileName: 'refdata-test', rotateSize: '1k', retentionFiles: 2, stdout: false });
      // pino-roll checks the size after each write the file stream completes. Under load the transport may write many
      // lines at once, so the lines go in groups of 5 (~1.2 KB, over the size), each waited for on disk before the
      // next: at least 8 rotations, whatever the machine's pace.
      const read = async () => {
        const names = (await fs.readdir(dir)).filter((f) => f.startsWith('refdata-test.'));
        // Retention removes files while the listing is read: a file gone meanwhile is read as empty.
        const texts = await Promise.all(names.map((f) => fs.readFile(path.join(dir, f), 'utf8').catch(() => '')));
        return { names, lines: texts.flatMap((text) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line)) };
      };
      for (let i = 0; i < 40; i++) {
        fileLog.info({ event: 'test.line', i, pad: 'x'.repeat(150) }, `line ${i}`);
        if (i % 5 === 4) {
          fileLog.flush();
          await waitFor(`line ${i} on disk`, async () => (await read()).lines.some((l) => l.i === i), 30_000);
        }
      }
      // Settled: the retention's removals are done when at most the kept count (plus the open file) is left.
      const { names: files, lines: kept } = await waitFor('retention applied', async () => {
        const now = await read();
        return now.names.length <= 3 ? now : null;
      }, 30_000);
      expect(files.length).toBeGreaterThanOrEqual(2);
      for (const f of files) expect(f).toMatch(/^refdata-test\.\d{4}-\d{2}-\d{2}\.\d+\.log$/);
      expect(kept.find((l) => l.i === 39)).toMatchObject({ event: 'test.line', msg: 'line 39', name: 'refdata', level: 30 });
      // 40 lines of ~250 bytes in 1 KB files: the first ones were in files removed by retention.
      expect(kept.some((l) => l.i === 0)).toBe(false);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
