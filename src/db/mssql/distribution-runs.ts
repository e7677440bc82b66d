// The distribution-run store on SQL Server: claims under an application lock, exports streamed row by row (a
// streaming request paused while the file writer catches up) and printed as CSV exactly as PostgreSQL's COPY does.
import type sql from 'mssql';
import type { ChunkSink, ClaimRunInput, DistributionRun, DistributionRunStore, DistributionSnapshot, InvalidRecordRow, WatermarkRange } from '../distribution-runs';
import { invalidRecordFromRow, runFromRow } from '../distribution-run-rows';
import { csvLine, trimDecimal } from '../../distribution/csv';
import { rowsOf, run, sqlTypeOf, withTransaction, type Row, type Runner } from './client';
import type { Statement } from './statement';
import * as q from './distribution-runs-sql';

const BATCH = 5000;

async function runRow(on: Runner, runId: string, lock = false) {
  const [row] = await rowsOf(on, q.selectRunSql(runId, lock));
  return row ? runFromRow(row) : null;
}

/**
 * Rows of a streaming request in batches. The request is paused while a batch waits for its reader, so memory
 * holds about two batches however large the result; a reader that stops early cancels the request.
 */
export async function* streamRows(pool: sql.ConnectionPool, stmt: Statement | string, batch = BATCH): AsyncGenerator<Row[]> {
  const request = pool.request();
  request.stream = true;
  const text = typeof stmt === 'string' ? stmt : stmt.text;
  if (typeof stmt !== 'string') for (const [name, p] of Object.entries(stmt.params)) request.input(name, sqlTypeOf(p), p.value);
  const queue: Row[] = [];
  let done = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const poke = () => wake?.();
  request.on('row', (r: Row) => {
    queue.push(r);
    if (queue.length >= batch * 2) request.pause();
    poke();
  });
  request.on('error', (err: Error) => {
    failure = err;
    poke();
  });
  request.on('done', () => {
    done = true;
    poke();
  });
  void request.query(text);
  try {
    for (;;) {
      if (queue.length >= batch || (done && queue.length > 0)) {
        yield queue.splice(0, batch);
        request.resume();
        continue;
      }
      if (failure) throw failure;
      if (done) return;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    }
  } finally {
    if (!done) request.cancel();
  }
}

async function* csvChunks(rows: AsyncIterable<Row[]>, columns: string[], decimals: string[], counter: { rows: number }): AsyncGenerator<Buffer> {
  yield Buffer.from(csvLine(columns));
  for await (const page of rows) {
    counter.rows += page.length;
    yield Buffer.from(page.map((r) => csvLine(columns.map((c) => {
      const v = r[c] == null ? null : String(r[c]);
      return decimals.includes(c) ? trimDecimal(v) : v;
    }))).join(''));
  }
}

/** SQL Server has no cheap snapshot without ALLOW_SNAPSHOT_ISOLATION: each export reads committed data on its own. */
function snapshotOf(pool: sql.ConnectionPool): DistributionSnapshot {
  async function exportCsv(stmt: Statement | string, columns: string[], decimals: string[], sink: ChunkSink): Promise<number> {
    const counter = { rows: 0 };
    await sink(csvChunks(streamRows(pool, stmt), columns, decimals, counter));
    return counter.rows;
  }
  return {
    exportInstruments(type, range, sink) {
      const stmt = q.instrumentExportSql(type, range);
      return exportCsv(stmt, stmt.columns, q.DECIMAL_COLUMNS, sink);
    },
    async exportDataset(d, sink) {
      const columns = (await rowsOf(pool, q.datasetColumnsSql(d.table))).map((r) => String(r.column_name));
      return exportCsv(q.datasetExportSql(d, columns), columns, [], sink);
    },
    async *invalidRecords(range: WatermarkRange, pageSize = BATCH): AsyncGenerator<InvalidRecordRow[]> {
      let after = 0;
      for (;;) {
        const page = (await rowsOf(pool, q.invalidPageSql(range, after, pageSize))).map(invalidRecordFromRow);
        if (page.length === 0) return;
        yield page;
        after = page[page.length - 1]!.id;
        if (page.length < pageSize) return;
      }
    },
  };
}

/** The claim inside its transaction: lock, then reuse the run or insert it with a new range. */
export async function claimRunIn(
  tx: Runner, input: ClaimRunInput, lockTimeoutMs = q.CLAIM_LOCK_TIMEOUT_MS,
): Promise<{ run: DistributionRun; reused: boolean }> {
  // 0 granted, 1 granted after waiting; negative: timed out, deadlock victim or error. Without the lock two claims
  // could compute overlapping ranges, so nothing is claimed (the activity retries).
  const [lock] = await rowsOf(tx, q.claimLockSql(lockTimeoutMs));
  if (typeof lock?.result !== 'number' || lock.result < 0) {
    throw new Error(`could not take the distribution claim lock (sp_getapplock returned ${String(lock?.result)}); another run is claiming, retry`);
  }
  const existing = await runRow(tx, input.runId, true);
  if (existing) {
    await run(tx, q.reuseClaimSql(input));
    return { run: (await runRow(tx, input.runId))!, reused: true };
  }
  await run(tx, q.insertClaimSql(input));
  return { run: (await runRow(tx, input.runId))!, reused: false };
}

export function createMssqlDistributionRunStore(pool: sql.ConnectionPool): DistributionRunStore {
  return {
    claimRun: (input) => withTransaction(pool, (tx) => claimRunIn(tx, input)),
    async recordFiles(runId, files) {
      await run(pool, q.recordFilesSql(runId, files));
    },
    async recordDeliveries(runId, ids) {
      await run(pool, q.recordDeliveriesSql(runId, ids));
    },
    async finishRun(runId, outcome) {
      await run(pool, q.finishRunSql(runId, outcome.status, outcome.status === 'succeeded' ? null : outcome.message.slice(0, 4000)));
      return runRow(pool, runId);
    },
    getRun: (runId) => runRow(pool, runId),
    async listRuns(filter) {
      return (await rowsOf(pool, q.listRunsSql(filter))).map(runFromRow);
    },
    async listDatasets() {
      const seen = new Set<string>();
      return (await rowsOf(pool, q.datasetsSql))
        .map((r) => ({ schema: String(r.schema_name), name: String(r.table_name), key: String(r.key_column) }))
        .filter((r) => !seen.has(r.name) && seen.add(r.name))
        .map((r) => ({ name: r.name, table: { schema: r.schema, name: r.name }, keyColumn: r.key }));
    },
    withSnapshot: (fn) => fn(snapshotOf(pool)),
  };
}
