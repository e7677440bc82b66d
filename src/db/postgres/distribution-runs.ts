// The distribution-run store on PostgreSQL: claims under an advisory lock, exports by COPY … TO STDOUT from one
// REPEATABLE READ snapshot.
import type { ChunkSink, DatasetRef, DistributionRunStore, DistributionSnapshot, InvalidRecordRow, WatermarkRange } from '../distribution-runs';
import { invalidRecordFromRow, runFromRow } from '../distribution-run-rows';
import type { PgExecutor, PgSession, SqlValue } from './executor';
import {
  CLAIM_LOCK, DATASETS_SQL, DATASET_COLUMNS_SQL, INSERT_CLAIM_SQL, REUSE_CLAIM_SQL, RUN_SELECT, copyOutSql, datasetExportSql, instrumentExportSql,
  invalidPageSql,
} from './distribution-runs-sql';

async function runRow(s: PgSession, runId: string, lock = false) {
  const rows = await s.query(`${RUN_SELECT} WHERE run_id = $1${lock ? ' FOR UPDATE' : ''}`, [runId]);
  return rows[0] ? runFromRow(rows[0]) : null;
}

function snapshotOf(s: PgSession): DistributionSnapshot {
  function exportCsv(select: string, sink: ChunkSink): Promise<number> {
    return s.copyOut(copyOutSql(select), sink);
  }
  return {
    exportInstruments(type, range, sink) {
      const { sql } = instrumentExportSql(type, range);
      return exportCsv(sql, sink);
    },
    async exportDataset(d: DatasetRef, sink) {
      const columns = (await s.query<{ column_name: string }>(DATASET_COLUMNS_SQL, [d.table.schema, d.table.name])).map((r) => r.column_name);
      return exportCsv(datasetExportSql(d, columns), sink);
    },
    async *invalidRecords(range: WatermarkRange, pageSize = 5000): AsyncGenerator<InvalidRecordRow[]> {
      let after = 0;
      for (;;) {
        const params: SqlValue[] = [range.to, after, pageSize];
        if (range.from !== null) params.push(range.from);
        const page = (await s.query(invalidPageSql(range), params)).map(invalidRecordFromRow);
        if (page.length === 0) return;
        yield page;
        after = page[page.length - 1]!.id;
        if (page.length < pageSize) return;
      }
    },
  };
}

export function createPostgresDistributionRunStore(exec: PgExecutor): DistributionRunStore {
  return {
    async claimRun(input) {
      return exec.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [CLAIM_LOCK]);
        const existing = await runRow(tx, input.runId, true);
        if (existing) {
          await tx.query(REUSE_CLAIM_SQL, [input.runId, input.workflowId, input.workflowRunId, input.trigger, input.directory]);
          return { run: (await runRow(tx, input.runId))!, reused: true };
        }
        await tx.query(INSERT_CLAIM_SQL, [
          input.runId, input.businessDate, input.kind, input.suffix, input.trigger, input.workflowId, input.workflowRunId, input.submissionId, input.directory,
        ]);
        return { run: (await runRow(tx, input.runId))!, reused: false };
      });
    },

    async recordFiles(runId, files) {
      await exec.query('UPDATE dist.distribution_runs SET files = $2::jsonb, files_removed_at = NULL WHERE run_id = $1', [runId, JSON.stringify(files)]);
    },

    async recordDeliveries(runId, deliveryIds) {
      await exec.query('UPDATE dist.distribution_runs SET delivery_ids = $2::jsonb WHERE run_id = $1', [runId, JSON.stringify(deliveryIds)]);
    },

    async finishRun(runId, outcome) {
      const message = outcome.status === 'succeeded' ? null : outcome.message.slice(0, 4000);
      await exec.query(
        `UPDATE dist.distribution_runs SET status = $2::text, error_message = $3, finished_at = clock_timestamp(),
           watermark_committed = watermark_committed OR $2::text = 'succeeded' WHERE run_id = $1`,
        [runId, outcome.status, message],
      );
      return runRow(exec, runId);
    },

    getRun: (runId) => runRow(exec, runId),

    async listRuns(filter) {
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (filter.businessDate) where.push(`business_date = $${params.push(filter.businessDate)}::date`);
      if (filter.status) where.push(`status = $${params.push(filter.status)}`);
      params.push(Math.min(Math.max(filter.limit, 1), 1000));
      const rows = await exec.query(
        `${RUN_SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY business_date DESC, run_id DESC LIMIT $${params.length}`,
        params,
      );
      return rows.map(runFromRow);
    },

    async listDatasets() {
      const rows = await exec.query<{ schema_name: string; table_name: string; key_column: string }>(DATASETS_SQL);
      const seen = new Set<string>();
      // Two schemas with one table name would write the same file names: the first (by schema) wins.
      return rows.filter((r) => !seen.has(r.table_name) && seen.add(r.table_name)).map((r) => ({
        name: r.table_name, table: { schema: r.schema_name, name: r.table_name }, keyColumn: r.key_column,
      }));
    },

    withSnapshot(fn) {
      return exec.transaction(async (tx) => {
        await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
        // Dataset columns are printed as text: the same zone and date style every time.
        await tx.query(`SET LOCAL TimeZone = 'UTC'`);
        await tx.query(`SET LOCAL DateStyle = 'ISO, YMD'`);
        return fn(snapshotOf(tx));
      });
    },
  };
}
