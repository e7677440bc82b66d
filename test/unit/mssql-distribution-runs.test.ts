// The SQL Server distribution-run store without a server: its migration mirrors PostgreSQL's, every statement binds
// what it references, the claim locks before it reads, and exports stream as the same CSV COPY would print.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type sql from 'mssql';
import { describe, expect, it } from 'vitest';
import * as q from '../../src/db/mssql/distribution-runs-sql';
import { claimRunIn, createMssqlDistributionRunStore } from '../../src/db/mssql/distribution-runs';
import type { ClaimRunInput } from '../../src/db/distribution-runs';
import type { Statement } from '../../src/db/mssql/statement';
import { expectParamsConsistent } from './mssql/statement-check';
import { ScriptedTransaction, type Row } from './mssql/scripted-transaction';

const root = path.resolve(__dirname, '../../sql');
const pgSql = fs.readFileSync(path.join(root, 'postgres/006_distribution_runs.sql'), 'utf8');
const msSql = fs.readFileSync(path.join(root, 'mssql/006_distribution_runs.sql'), 'utf8');

function columnsOf(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of text.replace(/--[^\n]*/g, '').matchAll(/CREATE TABLE\s+([\w.]+)\s*\(([\s\S]*?)\n\);/g)) {
    out.set(m[1]!, m[2]!.split('\n').map((l) => l.trim().split(/\s+/)[0]!.replace(/[[\]]/g, '')).filter((c) => c && c !== 'CONSTRAINT'));
  }
  return out;
}

/** @@SPID is a server function, not a parameter. */
const check = (s: Statement) => expectParamsConsistent({ ...s, text: s.text.replace(/@@\w+/g, '') });

const claim: ClaimRunInput = {
  runId: '20250621', businessDate: '2025-06-21', kind: 'full', suffix: null, trigger: 'schedule', workflowId: 'distribution:20250621', workflowRunId: 'r1',
  submissionId: 'sub-1', directory: '/srv/distribution/20250621',
};
const range = { from: '2025-06-20T19:30:00.1234567Z', to: '2025-06-21T19:30:00.000001Z' };

describe('sql/mssql/006_distribution_runs.sql', () => {
  it('creates the same table and columns as the PostgreSQL migration, as one batch without GO', () => {
    expect(columnsOf(msSql)).toEqual(columnsOf(pgSql));
    expect([...columnsOf(msSql).keys()]).toEqual(['dist.distribution_runs']);
    expect(msSql).not.toMatch(/^\s*GO\s*$/im);
    expect(msSql).toMatch(/\[trigger\]\s+nvarchar\(20\) NOT NULL/);
    expect(fs.readFileSync(path.join(root, 'mssql/006_distribution_runs.down.sql'), 'utf8')).toContain('DROP TABLE IF EXISTS dist.distribution_runs');
  });
});

describe('generated statements', () => {
  const statements: Statement[] = [
    q.selectRunSql('20250621', true), q.reuseClaimSql(claim), q.insertClaimSql(claim), q.insertClaimSql({ ...claim, kind: 'delta', suffix: '143015' }),
    q.recordFilesSql('20250621', []), q.recordDeliveriesSql('20250621', ['d1']), q.finishRunSql('20250621', 'failed', 'boom'),
    q.listRunsSql({ limit: 10 }), q.listRunsSql({ businessDate: '2025-06-21', status: 'failed', limit: 10 }), q.datasetColumnsSql({ schema: 'ref', name: 'airports' }),
    q.instrumentExportSql('full', range), q.instrumentExportSql('delta', range), q.instrumentExportSql('delta', { from: null, to: range.to }),
    q.instrumentExportSql('cancellation', range), q.invalidPageSql(range, 10, 500), q.invalidPageSql({ from: null, to: range.to }, 0, 500),
  ];

  it.each(statements.map((s, i) => [i, s] as const))('statement %i binds exactly the parameters it references', (_i, s) => {
    check(s);
  });

  it('a claim takes the range from the clock, held back by open transactions (when it may see them) and by later dates', () => {
    const t = q.insertClaimSql(claim).text;
    expect(t).toContain(`IF HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER STATE') = 1`);
    expect(t).toContain('WHERE st.session_id <> @@SPID AND st.is_user_transaction = 1 AND e.database_id = DB_ID()');
    expect(t).toContain(`(@kind = N'delta' OR (kind = N'full' AND business_date < CONVERT(date, @business_date, 23)))`);
    expect(t).toContain('IF @from IS NOT NULL AND @to < @from SET @to = @from;');
  });

  it('watermarks travel as exact text and only in their one shape', () => {
    const d = q.instrumentExportSql('delta', range);
    expect(d.params.wm_from!.value).toBe(range.from);
    expect(d.text).toContain(`CASE WHEN first_seen_at >= CONVERT(datetime2(7), @wm_from, 127) THEN N'ADDED' ELSE N'CHANGED' END AS change`);
    expect(d.text).toMatch(/WHERE is_active = 1 AND updated_at >= .* AND updated_at < .* ORDER BY instrument_key$/);
    expect(q.instrumentExportSql('delta', { from: null, to: range.to }).text).toContain(`N'ADDED' AS change`);
    expect(q.instrumentExportSql('cancellation', range).text).toContain(`N'Cancelled' AS tag`);
    expect(() => q.instrumentExportSql('delta', { from: "2025-06-21'; DROP TABLE x; --", to: range.to })).toThrow(/not a watermark/);
  });

  it('datasets: quoted identifiers, every column as text, ordered by the key then the rest', () => {
    expect(q.datasetExportSql({ name: 'airports', table: { schema: 'ref', name: 'airports' }, keyColumn: 'code' }, ['code', 'na]me'])).toBe(
      'SELECT CONVERT(nvarchar(max), [code]) AS [code], CONVERT(nvarchar(max), [na]]me]) AS [na]]me] FROM [ref].[airports] ORDER BY [code], [na]]me]',
    );
  });
});

const runRow = (over: Row = {}): Row => ({
  run_id: '20250621', business_date: '2025-06-21', kind: 'full', suffix: null, status: 'running', trigger: 'schedule', workflow_id: 'distribution:20250621',
  workflow_run_id: 'r1', submission_id: 'sub-1', wm_from: null, wm_to: '2025-06-21T19:30:00.0000010Z', watermark_committed: false,
  generated: '2025-06-21T19:30:00.0000010Z', directory: '/srv', files: '[]', delivery_ids: '[]', attempts: 1, started_at: new Date(), finished_at: null, error_message: null, ...over,
});

describe('claimRunIn', () => {
  it('locks, then inserts a new run with its range', async () => {
    let inserted = false;
    const tx = new ScriptedTransaction((t) => {
      if (t.startsWith('INSERT') || t.startsWith('DECLARE @now')) inserted = true;
      if (t.includes('sp_getapplock')) return { recordset: [{ result: 0 }] };
      return t.startsWith('SELECT run_id') ? { recordset: inserted ? [runRow()] : [] } : {};
    });
    const { run, reused } = await claimRunIn(tx.tx, claim);
    expect(reused).toBe(false);
    expect(run).toMatchObject({ runId: '20250621', watermark: { from: null, to: '2025-06-21T19:30:00.0000010Z' } });
    expect(tx.texts()[0]).toContain('sp_getapplock');
    expect(tx.texts()[1]).toContain('WITH (UPDLOCK, HOLDLOCK)');
    expect(tx.texts()[2]).toMatch(/^DECLARE @now/);
  });

  it('reuses an existing run: same range, no insert', async () => {
    const tx = new ScriptedTransaction((t) =>
      t.includes('sp_getapplock') ? { recordset: [{ result: 1 }] }
      : t.startsWith('SELECT run_id') ? { recordset: [runRow({ status: 'succeeded', watermark_committed: 1, attempts: 2 })] } : {});
    const { reused, run } = await claimRunIn(tx.tx, claim);
    expect(reused).toBe(true);
    expect(run.watermarkCommitted).toBe(true);
    expect(tx.texts().some((t) => t.includes('INSERT'))).toBe(false);
    expect(tx.texts()[2]).toMatch(/^UPDATE dist.distribution_runs SET status = N'running'/);
  });

  it.each([-1, -2, -3, -999])('claims nothing when sp_getapplock returns %i (timeout, cancel, deadlock, error)', async (result) => {
    const tx = new ScriptedTransaction((t) => (t.includes('sp_getapplock') ? { recordset: [{ result }] } : { recordset: [runRow()] }));
    await expect(claimRunIn(tx.tx, claim)).rejects.toThrow(`could not take the distribution claim lock (sp_getapplock returned ${result})`);
    expect(tx.texts()).toHaveLength(1);
  });
});

/** A pool whose streaming requests emit the given rows, recording pauses (backpressure) and cancels. */
function streamingPool(rows: Row[]) {
  const seen = { pauses: 0, cancelled: false, texts: [] as string[] };
  const pool = {
    request() {
      const req = Object.assign(new EventEmitter(), {
        stream: false,
        paused: false,
        input: () => req,
        pause: () => {
          seen.pauses++;
          req.paused = true;
        },
        resume: () => {
          req.paused = false;
        },
        cancel: () => {
          seen.cancelled = true;
        },
        query: async (text: string) => {
          seen.texts.push(text);
          for (const r of rows) {
            while (req.paused) await new Promise((res) => setImmediate(res));
            req.emit('row', r);
          }
          req.emit('done');
        },
      });
      return req;
    },
  };
  return { pool: pool as unknown as sql.ConnectionPool, seen };
}

async function collect(fn: (sink: (c: AsyncIterable<Buffer>) => Promise<void>) => Promise<number>): Promise<{ text: string; rows: number }> {
  const parts: Buffer[] = [];
  const rows = await fn(async (chunks) => {
    for await (const c of chunks) parts.push(c);
  });
  return { text: Buffer.concat(parts).toString('utf8'), rows };
}

describe('exports', () => {
  const instrument = (key: string, over: Row = {}): Row => ({
    instrument_key: key, segment: 'NSE_FO', exchange: 'NSE', instrument_type: 'CE', name: 'NIFTY', trading_symbol: 'NIFTY 18000 CE', isin: null,
    expiry: '2024-02-15', strike_price: '18000.000000', lot_size: '50.000000', tick_size: '0.050000', freeze_quantity: null, underlying_key: 'NSE_INDEX|Nifty 50',
    option_type: 'CE', weekly: 'true', first_seen_at: '2024-01-01 00:00:00', updated_at: '2024-01-02 03:04:05', ...over,
  });

  it('prints rows as COPY does (NULL empty, "" for the empty string, quotes, trimmed decimals)', async () => {
    const { pool } = streamingPool([instrument('NSE_FO|1'), instrument('NSE_FO|2', { name: 'A, "B"', isin: '' })]);
    const store = createMssqlDistributionRunStore(pool);
    const out = await store.withSnapshot((s) => collect((sink) => s.exportInstruments('full', range, sink)));
    expect(out.rows).toBe(2);
    expect(out.text.split('\n')).toEqual([
      'instrument_key,segment,exchange,instrument_type,name,trading_symbol,isin,expiry,strike_price,lot_size,tick_size,freeze_quantity,underlying_key,option_type,weekly,first_seen_at,updated_at',
      'NSE_FO|1,NSE_FO,NSE,CE,NIFTY,NIFTY 18000 CE,,2024-02-15,18000,50,0.05,,NSE_INDEX|Nifty 50,CE,true,2024-01-01 00:00:00,2024-01-02 03:04:05',
      'NSE_FO|2,NSE_FO,NSE,CE,"A, ""B""",NIFTY 18000 CE,"",2024-02-15,18000,50,0.05,,NSE_INDEX|Nifty 50,CE,true,2024-01-01 00:00:00,2024-01-02 03:04:05',
      '',
    ]);
  });

  it('pauses the request while rows wait for the writer, so memory stays about two batches', async () => {
    const rows = Array.from({ length: 25_000 }, (_, i) => instrument(`NSE_FO|${i}`));
    const { pool, seen } = streamingPool(rows);
    const out = await createMssqlDistributionRunStore(pool).withSnapshot((s) => collect((sink) => s.exportInstruments('full', range, sink)));
    expect(out.rows).toBe(25_000);
    expect(seen.pauses).toBeGreaterThan(0);
    expect(seen.cancelled).toBe(false);
  });
});
