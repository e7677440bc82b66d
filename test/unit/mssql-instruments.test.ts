// The SQL Server instrument store without a server: its migration mirrors PostgreSQL's, its statements bind every
// parameter, and its apply does what the guard decided (against a scripted transaction).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as q from '../../src/db/mssql/instrument-sql';
import { applySync, invalidBulkTable, stagingBulkTable, writeStagingBatch } from '../../src/db/mssql/instruments';
import { stagingTableOf } from '../../src/db/instruments';
import { evaluateGuard } from '../../src/instruments/guard';
import { validateRecord } from '../../src/instruments/record';
import type { Instrument } from '../../src/instruments/types';
import { expectParamsConsistent } from './mssql/statement-check';
import { ScriptedTransaction, type Row } from './mssql/scripted-transaction';

const root = path.resolve(__dirname, '../../sql');
const pgSql = fs.readFileSync(path.join(root, 'postgres/002_instruments.sql'), 'utf8');
const msSql = fs.readFileSync(path.join(root, 'mssql/002_instruments.sql'), 'utf8');
const stage = stagingTableOf('0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0');

function columnsOf(sql: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of sql.replace(/--[^\n]*/g, '').matchAll(/CREATE TABLE\s+([\w.]+)\s*\(([\s\S]*?)\n\);/g)) {
    out.set(m[1]!, m[2]!.split('\n').map((l) => l.trim().split(/\s+/)[0]!.replace(/[[\]]/g, '')).filter((c) => c && c !== 'CONSTRAINT'));
  }
  return out;
}

describe('sql/mssql/002_instruments.sql', () => {
  it('creates the same tables and columns as the PostgreSQL migration, as one batch without GO', () => {
    expect(columnsOf(msSql)).toEqual(columnsOf(pgSql));
    expect([...columnsOf(msSql).keys()]).toEqual(['ref.instruments', 'ref.instrument_sync_runs']);
    expect(msSql).not.toMatch(/^\s*GO\s*$/im);
  });

  it('compares keys byte-wise and quotes the reserved word trigger', () => {
    expect(msSql).toMatch(/instrument_key\s+nvarchar\(255\) COLLATE Latin1_General_100_BIN2 NOT NULL CONSTRAINT pk_instruments PRIMARY KEY/);
    expect(msSql).toMatch(/\[trigger\]\s+nvarchar\(20\) NOT NULL/);
    expect(q.createStagingSql(stage)).toContain('instrument_key nvarchar(255) COLLATE Latin1_General_100_BIN2 NOT NULL');
  });

  it('indexes what the API filters and the distribution reads', () => {
    for (const ix of ['segment, is_active', 'instrument_type, is_active', 'expiry', 'is_active', 'name', 'updated_at', 'first_seen_at', 'deactivated_at']) {
      expect(msSql).toContain(`ON ref.instruments (${ix})`);
    }
  });
});

describe('generated statements', () => {
  const runStart = { runId: 'r1', workflowId: 'instrument-sync', source: 'https://x/complete.json.gz', trigger: 'schedule' as const, forced: false };
  const statements = [
    q.selectRunSql('r1', true), q.listRunsSql(10), q.beginRunSql(runStart), q.recordSourceSql('r1', 'json-array', 10, 'a'.repeat(64)),
    q.resetStagingRunSql('r1', 'instrument_sync'), q.advanceStagingSql('r1', { recordsRead: 5, stagedRows: 4, invalid: 1, batches: 1 }),
    q.moveDuplicatesSql(stage, 'r1', 'instrument_sync'), q.markStagedSql('r1', 2, 1), q.applyLockSql,
    q.upsertInstrumentsSql(stage, 'r1', new Date()), q.deactivateMissingSql(stage, 'r1', new Date(), null), q.failRunSql('r1', 'failed', 'boom'),
    q.selectInstrumentSql('NSE_EQ|X'), q.storedVersionsSql(['NSE_EQ|X', 'a"b']),
    q.finishRunSql('r1', { status: 'succeeded', counts: { activeBefore: 1, added: 1, updated: 0, unchanged: 0, deactivated: 0, reactivated: 0 }, activeAfter: 2, bySegment: '{}', byType: '{}', guard: '{}', appliedAt: new Date() }),
    ...Object.values(q.listInstrumentsSql({ segment: 'NSE_FO', instrumentType: 'CE', nameContains: '50%_[x]\\', expiryFrom: '2024-02-01', expiryTo: '2024-02-29', active: true, limit: 10, offset: 20 })),
  ];

  it.each(statements.map((s, i) => [i, s] as const))('statement %i binds exactly the parameters it references', (_i, s) => {
    expectParamsConsistent(s);
  });

  it('"name contains" escapes the user\'s wildcards and pages with OFFSET/FETCH', () => {
    const { page } = q.listInstrumentsSql({ nameContains: '50%_[x]\\', limit: 10, offset: 20 });
    expect(page.params.name!.value).toBe('%50\\%\\_\\[x]\\\\%');
    expect(page.text).toContain("name LIKE @name ESCAPE N'\\'");
    expect(page.text).toMatch(/ORDER BY instrument_key OFFSET @offset ROWS FETCH NEXT @limit ROWS ONLY$/);
  });

  it('the upsert touches only new, changed or returning rows; deactivation only active rows missing from staging', () => {
    const up = q.upsertInstrumentsSql(stage, 'r1', new Date()).text;
    expect(up).toContain('WHERE s.has_data = 1 AND (i.row_hash <> s.row_hash OR i.is_active = 0)');
    expect(up).toContain(`NOT EXISTS (SELECT 1 FROM ref.instruments i WHERE i.instrument_key = s.instrument_key)`);
    const down = q.deactivateMissingSql(stage, 'r1', new Date(), null).text;
    expect(down).toContain(`WHERE i.is_active = 1 AND NOT EXISTS (SELECT 1 FROM [ref].[${stage.name}] s WHERE s.instrument_key = i.instrument_key)`);
    expect(down).not.toMatch(/DELETE/);
  });
});

const instrument = (key: string): Instrument => {
  const r = validateRecord({ instrument_key: key, segment: 'NSE_FO', instrument_type: 'CE', lot_size: 50, tick_size: 0.05, strike_price: 19650.5, expiry: '2024-02-15', weekly: true }, 1);
  if (!r.ok) throw new Error('fixture is invalid');
  return r.instrument;
};

describe('staging batches', () => {
  it('bulk tables carry decimals as exact text and dates as UTC midnights', () => {
    const t = stagingBulkTable('r1', [
      { kind: 'full', rowNumber: 1, instrument: instrument('NSE_FO|1') },
      { kind: 'invalid', rowNumber: 2, instrumentKey: 'NSE_FO|2' },
      { kind: 'unchanged', rowNumber: 3, instrumentKey: 'NSE_FO|3', rowHash: 'b'.repeat(64), category: 'fno', segment: 'NSE_FO', instrumentType: 'CE' },
    ]);
    expect(t.path).toBe(`[ref].[instrument_stage_r1]`);
    const [full, keyOnly, unchanged] = t.rows as unknown[][];
    expect(full!.slice(0, 4)).toEqual(['1', 'NSE_FO|1', true, true]);
    expect(full![12]).toEqual(new Date('2024-02-15T00:00:00Z'));
    expect(full![13]).toBe('19650.5');
    expect(keyOnly!.slice(0, 5)).toEqual(['2', 'NSE_FO|2', false, false, null]);
    expect(unchanged!.slice(0, 7)).toEqual(['3', 'NSE_FO|3', true, false, 'fno', 'b'.repeat(64), null]);
    expect(full).toHaveLength(t.columns.length);
    expect(unchanged).toHaveLength(t.columns.length);
    const inv = invalidBulkTable('r1', [{ rowNumber: 9, instrumentKey: null, rawText: '{}', errors: ['instrument_key is missing'] }]);
    expect(inv.rows[0]).toEqual(['instrument_sync', 'r1', null, '9', '{}', '["instrument_key is missing"]']);
  });

  it('a batch whose checkpoint moved writes nothing', async () => {
    const tx = new ScriptedTransaction((t) => (t.includes('FROM ref.instrument_sync_runs') ? { recordset: [{ status: 'running', records_read: '50', staged_rows: '50', invalid_records: '0', batches: 2 }] } : {}));
    const cp = { recordsRead: 25, stagedRows: 25, invalid: 0, batches: 1 };
    await expect(writeStagingBatch(tx.tx, 'r1', [], [], cp, { ...cp, recordsRead: 50, batches: 2 })).rejects.toThrow(/checkpoint moved/);
    expect(tx.bulks).toHaveLength(0);
  });
});

describe('applySync', () => {
  const runRow = (over: Row = {}): Row => ({
    run_id: 'r1', workflow_id: 'instrument-sync', trigger: 'schedule', source: 's', status: 'staged', forced: false, file_format: 'json-array', file_bytes: '10',
    file_sha256: null, records_read: '100', invalid_records: '0', duplicates: '0', active_before: null, active_after: null, added: null, updated: null,
    unchanged: null, deactivated: null, reactivated: null, by_segment: null, by_type: null, guard: null, error_message: null,
    started_at: new Date('2024-02-15T00:30:00Z'), finished_at: null, duration_ms: null, ...over,
  });
  const script = (after: Row) => (text: string) => {
    if (text.startsWith('SELECT run_id')) return { recordset: [text.includes('UPDLOCK') && !text.includes('TOP') ? runRow(after) : runRow()] };
    if (text.includes('sp_getapplock')) return { recordset: [{ result: 0 }] };
    if (text.startsWith('SELECT segment, instrument_type, SUM(active_before)')) {
      return { recordset: [{ segment: 'NSE_FO', instrument_type: 'CE', active_before: '100', added: '0', updated: '2', unchanged: '48', reactivated: '0', deactivated: '50' }] };
    }
    if (text.startsWith('SELECT SUM(CASE')) return { recordset: [{ fno: 50, equities: 0 }] };
    if (text.startsWith('SELECT SYSUTCDATETIME')) return { recordset: [{ now: new Date() }] };
    return {};
  };
  const policy = { maxDeactivateShare: 0.2, minEquities: 0, requireFno: true };

  it('a tripped guard records the trip and runs no upsert or deactivation', async () => {
    const tx = new ScriptedTransaction(script({ status: 'staged' }));
    await applySync(tx.tx, 'r1', (g) => evaluateGuard(g, policy, false));
    const texts = tx.texts();
    expect(texts.some((t) => t.startsWith('UPDATE i SET'))).toBe(false);
    const finish = tx.statements.find((s) => s.text.startsWith('UPDATE ref.instrument_sync_runs SET status = @status'))!;
    expect(finish.params).toMatchObject({ status: 'guard_tripped', deactivated: 50, applied_at: null });
  });

  it('forced, it upserts, deactivates and records success', async () => {
    const tx = new ScriptedTransaction(script({ status: 'staged' }));
    await applySync(tx.tx, 'r1', (g) => evaluateGuard(g, policy, true));
    const texts = tx.texts();
    const upsert = texts.findIndex((t) => t.startsWith('UPDATE i SET segment'));
    const deactivate = texts.findIndex((t) => t.startsWith('UPDATE i SET is_active = 0'));
    expect(upsert).toBeGreaterThan(0);
    expect(deactivate).toBeGreaterThan(upsert);
    expect(tx.statements.find((s) => s.text.startsWith('UPDATE ref.instrument_sync_runs SET status = @status'))!.params).toMatchObject({ status: 'succeeded' });
  });

  it('an applied run returns its report and changes nothing (a retried activity)', async () => {
    const tx = new ScriptedTransaction((t) => (t.startsWith('SELECT run_id') ? { recordset: [runRow({ status: 'succeeded', added: '3' })] } : {}));
    const r = await applySync(tx.tx, 'r1', () => {
      throw new Error('the guard must not be asked again');
    });
    expect(r).toMatchObject({ status: 'succeeded', added: 3 });
    expect(tx.texts()).toHaveLength(1);
  });
});
