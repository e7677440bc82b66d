// The table catalog on SQL Server: runs the statements of catalog-sql.ts and assembles the answer like PostgreSQL.
import type sql from 'mssql';
import type { CatalogStore, TableDetail } from '../catalog';
import { assembleTables, backupsOf, loadSummaryOf } from '../catalog';
import type { TableRef } from '../types';
import { rowsOf, run } from './client';
import { loadFromRow } from './rows';
import { countRowsSql } from './sql';
import {
  INVALID_OBJECT_NAME, backupTablesSql, catalogColumnRowsFrom, catalogColumnsSql, deactivateReferenceConfigSql, newestLoadsSql,
  referenceConfigsFrom, referenceConfigsSql, tableLoadsSql,
} from './catalog-sql';

const DETAIL_LOADS = 10;

async function countOf(pool: sql.ConnectionPool, t: TableRef): Promise<number | null> {
  try {
    const [row] = await rowsOf(pool, countRowsSql(t));
    return Number(row?.row_count);
  } catch (err) {
    if ((err as { number?: number }).number === INVALID_OBJECT_NAME) return null;
    throw err;
  }
}

export function createMssqlCatalogStore(pool: sql.ConnectionPool): CatalogStore {
  return {
    async listTables() {
      const columns = catalogColumnRowsFrom(await rowsOf(pool, catalogColumnsSql()));
      const loads = (await rowsOf(pool, newestLoadsSql)).map(loadFromRow);
      const configs = referenceConfigsFrom(await rowsOf(pool, referenceConfigsSql()));
      const counts = new Map<string, number>();
      for (const t of assembleTables(columns, loads, configs, counts)) {
        const n = await countOf(pool, t);
        if (n !== null) counts.set(`${t.schema}.${t.name}`, n);
      }
      return assembleTables(columns, loads, configs, counts).filter((t) => counts.has(`${t.schema}.${t.name}`));
    },

    async getTable(table): Promise<TableDetail | null> {
      const columns = catalogColumnRowsFrom(await rowsOf(pool, catalogColumnsSql(table)));
      const count = columns.length > 0 ? await countOf(pool, table) : null;
      if (count === null) return null;
      const loads = (await rowsOf(pool, tableLoadsSql(table, DETAIL_LOADS))).map(loadFromRow);
      const configs = referenceConfigsFrom(await rowsOf(pool, referenceConfigsSql(table)));
      const [summary] = assembleTables(columns, loads.slice(0, 1), configs, new Map([[`${table.schema}.${table.name}`, count]]));
      if (!summary) return null;
      const bkp = (await rowsOf(pool, backupTablesSql)).map((r) => String(r.table_name));
      return { ...summary, loads: loads.map(loadSummaryOf), backups: backupsOf(table, bkp) };
    },

    async listReferenceConfigs() {
      return referenceConfigsFrom(await rowsOf(pool, referenceConfigsSql()));
    },

    async deactivateReferenceConfig(table) {
      await run(pool, deactivateReferenceConfigSql(table));
    },
  };
}
