// The SQL Server retention store without a server: migration 008 mirrors PostgreSQL's, every statement binds what it
// references, the removal marks are guarded, and rows as tedious returns them narrow to the same records.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as q from '../../src/db/mssql/retention';
import { pathKey as pgPathKey } from '../../src/db/postgres/retention';
import { deliveryFileFromRow, runFilesFromRow } from '../../src/db/retention-rows';
import type { Statement } from '../../src/db/mssql/statement';
import { expectParamsConsistent } from './mssql/statement-check';

const root = path.resolve(__dirname, '../../sql');
const read = (dialect: string, name: string) => fs.readFileSync(path.join(root, dialect, name), 'utf8');
const pgUp = read('postgres', '008_delivered_file_retention.sql');
const msUp = read('mssql', '008_delivered_file_retention.sql');

function columnsOf(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of text.replace(/--[^\n]*/g, '').matchAll(/CREATE TABLE\s+([\w.]+)\s*\(([\s\S]*?)\n\);/g)) {
    out.set(m[1]!, m[2]!.split('\n').map((l) => l.trim().split(/\s+/)[0]!).filter((c) => c && c !== 'CONSTRAINT'));
  }
  return out;
}
const indexesOf = (text: string) => [...text.matchAll(/CREATE INDEX (\w+) ON ([\w.]+) \(([^)]*)\) WHERE (\w+) IS NULL/g)].map((m) => m.slice(1).join(' '));
/** @@ROWCOUNT is a server function, not a parameter. */
const check = (s: Statement) => expectParamsConsistent({ ...s, text: s.text.replace(/@@\w+/g, '') });

describe('sql/*/008_delivered_file_retention', () => {
  it('creates the same table, column and filtered indexes on both dialects, as one SQL Server batch without GO', () => {
    expect(columnsOf(msUp)).toEqual(columnsOf(pgUp));
    expect([...columnsOf(msUp).keys()]).toEqual(['dist.delivery_files']);
    expect(indexesOf(msUp)).toEqual(indexesOf(pgUp));
    expect(indexesOf(pgUp)).toHaveLength(2);
    expect(pgUp).toContain('ALTER TABLE dist.distribution_runs ADD COLUMN files_removed_at timestamptz');
    expect(msUp).toContain('ALTER TABLE dist.distribution_runs ADD files_removed_at datetime2 NULL');
    expect(msUp).not.toMatch(/^\s*GO\s*$/im);
  });

  it('each rollback drops the table, the index and the column again', () => {
    for (const dialect of ['postgres', 'mssql']) {
      const down = read(dialect, '008_delivered_file_retention.down.sql');
      expect(down).toContain('DROP TABLE IF EXISTS dist.delivery_files');
      expect(down).toMatch(/DROP INDEX IF EXISTS (dist\.)?ix_distribution_runs_files_kept/);
      expect(down).toContain('DROP COLUMN IF EXISTS files_removed_at');
    }
  });
});

describe('generated statements', () => {
  const file = { path: '/srv/refdata/copies/dlv_1.pdf.gpg', kind: 'encrypted-copy' as const, reportId: 'rpt-1', deliveryId: 'dlv_1', bytes: 42 };
  const statements: Statement[] = [
    q.runsWithFilesSql(10), q.markRunFilesRemovedSql('20250621', 2), q.recordDeliveryFileSql(file), q.recordDeliveryFileSql({ ...file, deliveryId: null, bytes: null }),
    q.deliveryFilesSql(10), q.markDeliveryFileRemovedSql(7, new Date('2025-06-21T00:00:00Z')),
  ];

  it.each(statements.map((s, i) => [i, s] as const))('statement %i binds exactly the parameters it references', (_i, s) => {
    check(s);
  });

  it('a run is marked removed only as the finished attempt that was judged, and reports whether it was', () => {
    const t = q.markRunFilesRemovedSql('20250621', 2).text;
    expect(t).toContain('OUTPUT inserted.run_id');
    expect(t).toContain(`WHERE run_id = @run_id AND attempts = @attempts AND status <> N'running' AND files_removed_at IS NULL`);
  });

  it('counts open deliveries as anything not delivered, failed or cancelled (a waiting or retrying one holds the files)', () => {
    expect(q.runsWithFilesSql(1).text).toContain(`SUM(CASE WHEN h.status NOT IN (N'delivered', N'failed', N'cancelled') THEN 1 ELSE 0 END)`);
    expect(q.runsWithFilesSql(1).text).toContain(`h.report_id = r.run_id AND h.report_type = N'REFERENCE_DATA'`);
  });

  it('keys a registered path by the same SHA-256 as PostgreSQL, and re-registering un-marks it', () => {
    const s = q.recordDeliveryFileSql(file);
    expect(s.params.path_sha256!.value).toBe(pgPathKey(file.path));
    expect(s.params.path_sha256!.value).toMatch(/^[0-9a-f]{64}$/);
    expect(s.text).toMatch(/UPDATE dist\.delivery_files WITH \(UPDLOCK, SERIALIZABLE\)[\s\S]*removed_at = NULL[\s\S]*IF @@ROWCOUNT = 0\s+INSERT/);
  });
});

describe('rows as tedious returns them', () => {
  it('narrow to the same records as node-postgres rows', () => {
    const at = new Date('2025-06-22T01:00:00Z');
    const files = JSON.stringify([{ name: '20250621_full.csv', type: 'full' }, { name: '20250621_manifest.json' }]);
    expect(runFilesFromRow({
      run_id: '20250621', business_date: '2025-06-21', directory: '/d/20250621', files, status: 'succeeded', attempts: 1, written_at: at,
      total: 2, open: 0, last_final_at: at, retention_days: 90,
    })).toEqual({
      runId: '20250621', businessDate: '2025-06-21', directory: '/d/20250621', fileNames: ['20250621_full.csv', '20250621_manifest.json'], status: 'succeeded',
      attempts: 1, writtenAt: at, deliveries: { total: 2, open: 0, lastFinalAt: at, retentionDays: 90 },
    });
    // A run without deliveries: COUNT 0, the rest NULL.
    expect(runFilesFromRow({
      run_id: '20250622', business_date: '2025-06-22', directory: null, files: '[]', status: 'failed', attempts: 3, written_at: at, total: 0, open: 0, last_final_at: null, retention_days: null,
    }).deliveries).toEqual({ total: 0, open: 0, lastFinalAt: null, retentionDays: null });
    expect(deliveryFileFromRow({
      id: '12', path: '/x.gpg', kind: 'encrypted-copy', report_id: 'rpt-1', delivery_id: 'dlv_1', bytes: '42', created_at: at, total: 1, open: 1, last_final_at: at, retention_days: 7,
    })).toMatchObject({ id: 12, bytes: 42, deliveries: { total: 1, open: 1, retentionDays: 7 } });
  });
});
