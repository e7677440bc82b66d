// Duplicate content is archived without loading; a finished load can be reverted through the API; retention cleans up.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { instrumentCsv, listDir, startSystem, type System } from './harness';
import { signalFileWorkflow } from '../../src/temporal/client';
import { createCleanupActivities, type CleanupResult } from '../../activities/cleanup';
import { silentLogger } from '../../src/log/logger';
import type { FileLifecycleResult } from '../../workflows/file-lifecycle';
import { applySchedules, scheduleSpecs } from '../../src/temporal/schedules';
import { loadConfig } from '../../src/config';
import { scheduleIds, taskQueues } from '../../src/ids';

let sys: System;
beforeAll(async () => {
  sys = await startSystem({ testFile: __filename, database: 'postgres' });
});
afterAll(async () => sys?.stop());

async function drop(folder: string, name: string, content: string): Promise<FileLifecycleResult> {
  const file = path.join(sys.dropRoot, folder, name);
  await fs.writeFile(file, content);
  const started = await signalFileWorkflow(sys.client, { dropRoot: sys.dropRoot, filePath: file, stability: sys.stability, skipStability: true });
  if (!('workflowId' in started)) throw new Error(started.ignored);
  return (await sys.client.workflow.getHandle(started.workflowId).result()) as FileLifecycleResult;
}

describe('duplicates', () => {
  it('the same content into the same table is archived as a duplicate that names the first load', async () => {
    const content = instrumentCsv(40);
    const first = await drop('none_reference_data_table/append', 'fills_20241201.csv', content);
    expect(first.status).toBe('loaded');
    const again = await drop('none_reference_data_table/append', 'fills_20241202.csv', content);
    expect(again.status).toBe('duplicate');
    expect(again.loadId).toBe(first.loadId);
    expect(await sys.db.countRows({ schema: 'data', name: 'fills' })).toBe(40);
    const rec = await sys.db.getTrackingByPath(path.join(sys.dropRoot, 'none_reference_data_table/append/fills_20241202.csv'));
    expect(rec?.status).toBe('duplicate');
    expect(rec?.errorMessage).toContain(first.loadId!);
    expect((await listDir(path.join(sys.dropRoot, 'none_reference_data_table/append/processed'))).some((f) => f.endsWith('fills_20241202.csv'))).toBe(true);
  });

  it('different content into the same table loads', async () => {
    expect((await drop('none_reference_data_table/append', 'fills_20241203.csv', instrumentCsv(41))).status).toBe('loaded');
    expect(await sys.db.countRows({ schema: 'data', name: 'fills' })).toBe(81);
  });
});

describe('revert through the API', () => {
  it('a fullload reverted brings the previous contents back; an append reverted removes its rows', async () => {
    await drop('reference_data_table/fullload', 'venues_20241201.csv', instrumentCsv(10));
    const second = await drop('reference_data_table/fullload', 'venues_20241202.csv', instrumentCsv(3));
    expect(await sys.db.countRows({ schema: 'ref', name: 'venues' })).toBe(3);
    const auth = { authorization: `Bearer ${sys.adminKey}` };
    expect((await sys.api.inject({ method: 'POST', url: `/api/v1/loads/${second.loadId}/revert` })).statusCode).toBe(401);
    const res = await sys.api.inject({ method: 'POST', url: `/api/v1/loads/${second.loadId}/revert`, headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('reverted');
    expect(await sys.db.countRows({ schema: 'ref', name: 'venues' })).toBe(10);
    const again = await sys.api.inject({ method: 'POST', url: '/api/v1/loads/load_nope/revert', headers: auth });
    expect(again.statusCode).toBe(404);

    const list = await sys.api.inject({ method: 'GET', headers: { authorization: `Bearer ${sys.adminKey}` }, url: '/api/v1/loads?table=venues' });
    expect(list.json().items.map((l: { status: string }) => l.status)).toEqual(['reverted', 'loaded']);
  });
});

describe('retention cleanup', () => {
  it('removes archived files and bkp tables past their retention, by the archive stamp rather than mtime', async () => {
    const processed = path.join(sys.dropRoot, 'reference_data_table/fullload/processed');
    await fs.writeFile(path.join(processed, '20200101T000000Z_ancient.csv'), 'x');
    await fs.writeFile(path.join(processed, '20200101T000000Z_ancient.csv.error.json'), '{}');
    const fresh = (await listDir(processed)).filter((f) => !f.includes('ancient'));
    const env = new MockActivityEnvironment();
    const acts = createCleanupActivities({ db: sys.db, log: silentLogger(), dropRoot: sys.dropRoot, retention: { archiveDays: 30, bkpDays: 0 }, now: () => new Date(Date.now() + 2000) });
    const result = (await env.run(acts.cleanupArchives)) as CleanupResult;
    expect(result.filesRemoved).toBe(2);
    expect((await listDir(processed)).sort()).toEqual(fresh.sort());
    // bkpDays 0 and a clock 2 s ahead: every backup (from the venues loads above) is past retention.
    expect(result.backupsDropped.length).toBeGreaterThan(0);
    expect(result.backupsDropped.every((n) => n.startsWith('venues__'))).toBe(true);
  });
});

describe('the cleanup schedule', () => {
  afterAll(async () => sys.client.schedule.getHandle(scheduleIds.cleanup).delete().catch(() => undefined));

  it('is applied with the other schedules, and its run sweeps the drop folders', async () => {
    const config = loadConfig({ REFDATA_CLEANUP_CRON: '15 3 * * *', REFDATA_ARCHIVE_RETENTION_DAYS: '7' });
    const spec = scheduleSpecs(config).find((s) => s.scheduleId === scheduleIds.cleanup);
    expect(spec).toMatchObject({ workflowType: 'cleanup', taskQueue: 'ingest', cron: '15 3 * * *', timeZone: 'UTC' });
    expect(await applySchedules(sys.client, [spec!])).toEqual([{ scheduleId: scheduleIds.cleanup, action: 'created', paused: false }]);
    const handle = sys.client.schedule.getHandle(scheduleIds.cleanup);
    expect((await handle.describe()).spec.calendars?.[0]).toMatchObject({ hour: [{ start: 3, end: 3, step: 1 }], minute: [{ start: 15, end: 15, step: 1 }] });

    const errorDir = path.join(sys.dropRoot, 'none_reference_data_table/append/error');
    await fs.mkdir(errorDir, { recursive: true });
    await fs.writeFile(path.join(errorDir, '20200101T000000Z_old.csv'), 'x');
    await handle.trigger();
    const deadline = Date.now() + 60_000;
    while ((await listDir(errorDir)).includes('20200101T000000Z_old.csv')) {
      if (Date.now() > deadline) throw new Error('the scheduled cleanup did not remove the old archived file within 60 s');
      await new Promise((r) => setTimeout(r, 250));
    }
    const runs = (await handle.describe()).info.recentActions;
    expect(runs.length).toBeGreaterThanOrEqual(1);
    const result = await sys.client.workflow.getHandle(runs[0]!.action.workflow.workflowId).result();
    expect(result).toMatchObject({ filesRemoved: expect.any(Number) });
    expect((result as CleanupResult).filesRemoved).toBeGreaterThanOrEqual(1);
  });
});

describe('delivered files in the cleanup workflow', () => {
  it('removes a distribution run\'s files and a registered delivery copy whose retention ran out, and keeps the young ones', async () => {
    const sqlClient = new PgClient({ connectionString: sys.dbUrl! });
    await sqlClient.connect();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'refdata-delivered-'));
    try {
      const runs = { old: '19990101', young: '19990102' };
      for (const [i, runId] of [runs.old, runs.young].entries()) {
        await sys.db.distributionRuns.claimRun({
          runId, businessDate: `1999-01-0${i + 1}`, kind: 'full', suffix: null, trigger: 'cli', workflowId: `distribution:${runId}`, workflowRunId: 'r1',
          submissionId: `sub-${runId}`, directory: path.join(dir, runId),
        });
        await fs.mkdir(path.join(dir, runId));
        await fs.writeFile(path.join(dir, runId, `${runId}_full.csv`), 'a,b\n');
        await sys.db.distributionRuns.recordFiles(runId, [{ name: `${runId}_full.csv`, type: 'full', dataset: 'instruments', rows: 0, bytes: 4, sha256: 'x' }]);
        await sys.db.distributionRuns.finishRun(runId, { status: 'succeeded' });
      }
      const copy = path.join(dir, 'dlv-x.csv.gpg');
      await fs.writeFile(copy, 'encrypted');
      await sys.db.retention.recordDeliveryFile({ path: copy, kind: 'encrypted-copy', reportId: 'rpt-x', deliveryId: null, bytes: 9 });
      // Written 100 days ago, with no deliveries: past the default 90 days.
      await sqlClient.query(`UPDATE dist.distribution_runs SET finished_at = now() - interval '100 days' WHERE run_id = $1`, [runs.old]);
      await sqlClient.query(`UPDATE dist.delivery_files SET created_at = now() - interval '100 days'`);

      const result = (await sys.client.workflow.execute('cleanup', { taskQueue: taskQueues.ingest, workflowId: `cleanup-delivered-${Date.now()}`, args: [] })) as CleanupResult;
      expect(result.delivered).toMatchObject({ runs: [runs.old], copies: 1, filesRemoved: 2, bytesFreed: 4 + 9 });
      expect(await listDir(dir)).toEqual([runs.young]);
      expect(await listDir(path.join(dir, runs.young))).toEqual([`${runs.young}_full.csv`]);
    } finally {
      await sqlClient.end();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
