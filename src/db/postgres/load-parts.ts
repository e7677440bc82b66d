// The PostgreSQL side of a load split into byte ranges: per-part checkpoints committed with each part's batches.
import type { Database } from '../types';
import { DataError } from '../types';
import type { PgExecutor } from './executor';
import { copyRawCsvSql, qualified } from './sql';
import { partsOf, toDataError } from './loads';

type PartMethods = Required<Pick<Database, 'beginParts' | 'copyCsvPart' | 'restartLoad'>>;

export function createPgLoadParts(exec: PgExecutor): PartMethods {
  return {
    async beginParts(loadId, ranges) {
      return exec.transaction(async (tx) => {
        const [load] = await tx.query<{ status: string; byte_offset: string }>('SELECT status, byte_offset FROM ref.loads WHERE load_id = $1 FOR UPDATE', [loadId]);
        if (!load) throw new Error(`load ${loadId} does not exist`);
        const have = await partsOf(tx, loadId);
        // Parts are cut once, from the first byte; a load already under way in one stream stays in one.
        if (have.length > 0 || Number(load.byte_offset) > 0 || load.status !== 'loading') return have;
        for (const [i, r] of ranges.entries()) {
          await tx.query('INSERT INTO ref.load_parts (load_id, part, range_start, range_end, byte_offset) VALUES ($1, $2, $3, $4, $3)', [loadId, i, r.start, r.end]);
        }
        return partsOf(tx, loadId);
      });
    },

    async copyCsvPart(loadId, part, columns, csv, format, expected, next) {
      try {
        return await exec.transaction(async (tx) => {
          await tx.exec('SET LOCAL synchronous_commit = off');
          // KEY SHARE keeps an abort or finish (FOR UPDATE) out while the batch is under way, yet lets the other
          // streams update the load's totals (their UPDATE takes NO KEY UPDATE, which does not conflict with it).
          const [load] = await tx.query<{ status: string; staging_schema: string; staging_table: string }>(
            'SELECT status, staging_schema, staging_table FROM ref.loads WHERE load_id = $1 FOR KEY SHARE', [loadId],
          );
          if (!load || load.status !== 'loading') throw new Error(`load ${loadId} is ${load?.status ?? 'missing'}, not loading`);
          const [p] = await tx.query<{ byte_offset: string }>('SELECT byte_offset FROM ref.load_parts WHERE load_id = $1 AND part = $2 FOR UPDATE', [loadId, part]);
          if (!p || Number(p.byte_offset) !== expected) {
            throw new Error(`load ${loadId} part ${part} checkpoint moved: expected byte ${expected}, found ${p ? p.byte_offset : 'no part'}`);
          }
          const staging = { schema: load.staging_schema, name: load.staging_table };
          const copied = await tx.copyFromCsv(copyRawCsvSql(staging, columns, format.delimiter, format.quote), csv);
          const to = next();
          if (copied !== to.rows) throw new DataError(`COPY read ${copied} rows where ${to.rows} records were sent`, 'ROW_COUNT');
          await tx.query('UPDATE ref.load_parts SET byte_offset = $3, rows_committed = rows_committed + $4, batches = batches + 1 WHERE load_id = $1 AND part = $2', [
            loadId, part, expected + to.bytes, to.rows,
          ]);
          await tx.query('UPDATE ref.loads SET rows_committed = rows_committed + $2, byte_offset = byte_offset + $3, batches = batches + 1 WHERE load_id = $1', [
            loadId, to.rows, to.bytes,
          ]);
          return copied;
        });
      } catch (err) {
        throw toDataError(err) ?? err;
      }
    },

    async restartLoad(loadId) {
      await exec.transaction(async (tx) => {
        const [load] = await tx.query<{ status: string; staging_schema: string; staging_table: string; target_table: string }>(
          'SELECT status, staging_schema, staging_table, target_table FROM ref.loads WHERE load_id = $1 FOR UPDATE', [loadId],
        );
        if (!load || load.status !== 'loading') return;
        // Parallel loads always have a staging table of their own (never the target itself).
        if (load.staging_table === load.target_table) throw new Error(`load ${loadId} writes into its target; it cannot be restarted by emptying it`);
        await tx.exec(`TRUNCATE ${qualified({ schema: load.staging_schema, name: load.staging_table })}`);
        await tx.query('DELETE FROM ref.load_parts WHERE load_id = $1', [loadId]);
        await tx.query(`DELETE FROM ref.invalid_records WHERE source = 'file' AND source_ref = $1`, [loadId]);
        await tx.query('UPDATE ref.loads SET rows_committed = 0, rows_quarantined = 0, byte_offset = 0, batches = 0 WHERE load_id = $1', [loadId]);
      });
    },
  };
}
