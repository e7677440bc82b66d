// Retention of delivered files on real PostgreSQL and real files: a distribution run's files and backups, and
// registered delivery copies, go once every delivery is final and retention_days have passed — and nothing else does.
import fs from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCleanupActivities, type DeliveredFilesResult } from '../../activities/cleanup';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { Database } from '../../src/db/types';
import { createTestDatabase, type TestDatabase } from '../support/pg';
import { makeTempDir, type TempDir } from '../support/temp';
import { mockActivityEnv, runActivity } from '../support/instrument-sync-steps';

const DAY = 24 * 60 * 60 * 1000;
let tdb: TestDatabase;
let db: Database;
let sql: Client;
let temp: TempDir;
let distDir: string;
let backupDir: string;
const auditLines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  tdb = await createTestDatabase(inject('pgUrl'));
  db = createPostgresDatabase(createNodePgExecutor(tdb.url), 'postgres');
  await db.migrate();
  sql = new Client({ connectionString: tdb.url });
  await sql.connect();
  temp = await makeTempDir('refdata-retention-');
  distDir = path.join(temp.path, 'distribution');
  backupDir = path.join(temp.path, 'distribution-backup');
});
afterAll(async () => {
  await sql?.end();
  await db?.close();
  await tdb?.drop();
  await temp?.cleanup();
});

function sweep(daysAhead: number, backupRetentionDays = 90): Promise<DeliveredFilesResult> {
  const log = pino({ level: 'info' }, new Writable({ write(chunk, _enc, done) { auditLines.push(JSON.parse(String(chunk))); done(); } }));
  const acts = createCleanupActivities({
    db, log, dropRoot: temp.path, retention: { archiveDays: 30, bkpDays: 30 },
    distribution: { dir: distDir, backupDir, backupRetentionDays }, now: () => new Date(Date.now() + daysAhead * DAY),
  });
  return runActivity(mockActivityEnv(), acts.removeDeliveredFiles);
}

/** A finished run with real files in its folder and the same files in its backup folder. */
async function distributed(businessDate: string, names: string[]): Promise<{ dir: string; backup: string; bytes: number }> {
  const runId = businessDate.replace(/-/g, '');
  const dir = path.join(distDir, runId);
  const backup = path.join(backupDir, runId);
  await db.distributionRuns.claimRun({
    runId, businessDate, kind: 'full', suffix: null, trigger: 'cli', workflowId: `distribution:${runId}`, workflowRunId: 'r1', submissionId: `sub-${runId}`, directory: dir,
  });
  let bytes = 0;
  for (const d of [dir, backup]) {
    await fs.mkdir(d, { recursive: true });
    for (const n of names) {
      const body = `${n} of ${runId}\n`;
      await fs.writeFile(path.join(d, n), body);
      bytes += Buffer.byteLength(body);
    }
  }
  await db.distributionRuns.recordFiles(runId, names.map((name) => ({ name, type: 'full' as const, dataset: 'instruments', rows: 1, bytes: 1, sha256: 'x' })));
  await db.distributionRuns.finishRun(runId, { status: 'succeeded' });
  return { dir, backup, bytes };
}

async function delivery(reportId: string, deliveryId: string, status: string, retentionDays: number, reportType = 'REFERENCE_DATA', filePath: string | null = null): Promise<void> {
  const payload = { message: { deliveryId, attachments: [] }, report: { reportId, reportType, filePath, retentionDays } };
  await sql.query(
    `INSERT INTO dist.delivery_history (delivery_id, subscription_id, subscriber_id, report_id, report_type, channel, channel_id, status, payload, workflow_id)
     VALUES ($1, 'sub-1', 'client-1', $2, $3, 'SFTP', 'ch-1', $4, $5, $6)`,
    [deliveryId, reportId, reportType, status, JSON.stringify(payload), `delivery:${deliveryId}`],
  );
}

const exists = (p: string) => fs.stat(p).then(() => true, () => false);

describe('distribution runs', () => {
  it('removes a run\'s files and backups once its deliveries are final and retention_days passed; keeps open and young runs', async () => {
    const a = await distributed('2001-01-01', ['20010101_full.csv', '20010101_manifest.json']);
    await delivery('20010101', 'dlv-a1', 'delivered', 30);
    await delivery('20010101', 'dlv-a2', 'failed', 30);
    await fs.writeFile(path.join(a.backup, 'operator-notes.txt'), 'not refdata\'s');
    const b = await distributed('2001-01-02', ['20010102_full.csv']);
    await delivery('20010102', 'dlv-b1', 'delivered', 30);
    await delivery('20010102', 'dlv-b2', 'retrying', 30);
    const c = await distributed('2001-01-03', ['20010103_full.csv']);
    await delivery('20010103', 'dlv-c1', 'delivered', 60);

    const early = await sweep(29);
    expect(early).toMatchObject({ runs: [], filesRemoved: 0 });

    const result = await sweep(31);
    expect(result.runs).toEqual(['20010101']);
    expect(result.filesRemoved).toBe(4);
    expect(result.bytesFreed).toBe(a.bytes);
    expect(result.kept).toMatchObject({ 'deliveries-open': 1, 'not-yet': 1 });
    // The run's own folder is empty and gone; the backup folder keeps what refdata did not write.
    expect(await exists(a.dir)).toBe(false);
    expect(await fs.readdir(a.backup)).toEqual(['operator-notes.txt']);
    expect((await fs.readdir(b.dir)).length).toBe(1);
    expect((await fs.readdir(b.backup)).length).toBe(1);
    expect((await fs.readdir(c.dir)).length).toBe(1);
    const marks = await sql.query('SELECT run_id FROM dist.distribution_runs WHERE files_removed_at IS NOT NULL');
    expect(marks.rows.map((r) => r.run_id)).toEqual(['20010101']);
    expect(auditLines).toContainEqual(expect.objectContaining({ audit: true, event: 'distribution.files_removed', distributionId: '20010101', files: 4, bytes: a.bytes }));

    // The same sweep again removes nothing more; a later one takes the run whose retention ran out meanwhile.
    expect(await sweep(31)).toMatchObject({ runs: [], filesRemoved: 0 });
    expect((await sweep(61)).runs).toEqual(['20010103']);
  });

  it('a run re-written after its files went is kept again, for a whole new retention', async () => {
    const names = ['20010104_full.csv'];
    await distributed('2001-01-04', names);
    expect((await sweep(91)).runs).toEqual(['20010104']);
    const again = await distributed('2001-01-04', names);
    expect(await sweep(1)).toMatchObject({ runs: [] });
    expect(await fs.readdir(again.dir)).toEqual(names);
    const row = await sql.query(`SELECT files_removed_at FROM dist.distribution_runs WHERE run_id = '20010104'`);
    expect(row.rows[0].files_removed_at).toBeNull();
  });

  it('follows no link: a recorded name that is a symlink is left, and so is what it points to', async () => {
    const outside = path.join(temp.path, 'precious.csv');
    await fs.writeFile(outside, 'someone else\'s');
    const r = await distributed('2001-01-05', ['20010105_full.csv']);
    await fs.rm(path.join(r.dir, '20010105_full.csv'));
    await fs.symlink(outside, path.join(r.dir, '20010105_full.csv'));
    await sweep(200);
    expect(await fs.readFile(outside, 'utf8')).toBe('someone else\'s');
    expect(await exists(path.join(r.backup, '20010105_full.csv'))).toBe(false);
  });

  it('REFDATA_DISTRIBUTION_BACKUP_RETENTION_DAYS=0 keeps every run, whatever its deliveries carry', async () => {
    const r = await distributed('2001-01-06', ['20010106_full.csv']);
    await delivery('20010106', 'dlv-f1', 'delivered', 1);
    const result = await sweep(1000, 0);
    expect(result.runs).not.toContain('20010106');
    expect(await fs.readdir(r.dir)).toEqual(['20010106_full.csv']);
  });
});

describe('delivery copies and upstream report files', () => {
  it('removes a registered copy after its own delivery is final and its retention passed, and never an upstream report file', async () => {
    const reports = path.join(temp.path, 'reports');
    await fs.mkdir(reports, { recursive: true });
    const upstream = path.join(reports, 'portfolio_performance_202506.pdf');
    await fs.writeFile(upstream, 'the producer\'s report');
    const copyDone = path.join(temp.path, 'dlv-e1.pdf.gpg');
    const copyOpen = path.join(temp.path, 'dlv-e2.pdf.gpg');
    await fs.writeFile(copyDone, 'encrypted for client 1');
    await fs.writeFile(copyOpen, 'encrypted for client 2');
    await delivery('rpt-1', 'dlv-e1', 'delivered', 7, 'PERFORMANCE_REPORT', upstream);
    await delivery('rpt-1', 'dlv-e2', 'sending', 7, 'PERFORMANCE_REPORT', upstream);
    await db.retention.recordDeliveryFile({ path: copyDone, kind: 'encrypted-copy', reportId: 'rpt-1', deliveryId: 'dlv-e1', bytes: 22 });
    await db.retention.recordDeliveryFile({ path: copyOpen, kind: 'encrypted-copy', reportId: 'rpt-1', deliveryId: 'dlv-e2', bytes: 22 });

    expect(await sweep(6)).toMatchObject({ copies: 0 });
    const result = await sweep(8);
    expect(result.copies).toBe(1);
    expect(await exists(copyDone)).toBe(false);
    expect(await exists(copyOpen)).toBe(true);
    expect(await fs.readFile(upstream, 'utf8')).toBe('the producer\'s report');
    expect(auditLines).toContainEqual(expect.objectContaining({ event: 'delivery.file_removed', deliveryId: 'dlv-e1', kind: 'encrypted-copy', bytes: 22 }));

    // Made again (a replay re-encrypts): registered again, kept again.
    await fs.writeFile(copyDone, 'encrypted again');
    await db.retention.recordDeliveryFile({ path: copyDone, kind: 'encrypted-copy', reportId: 'rpt-1', deliveryId: 'dlv-e1', bytes: 15 });
    expect((await db.retention.listDeliveryFiles(100)).map((f) => f.path).sort()).toEqual([copyDone, copyOpen].sort());
    expect(await sweep(1)).toMatchObject({ copies: 0 });
    expect(await exists(copyDone)).toBe(true);
  });
});
