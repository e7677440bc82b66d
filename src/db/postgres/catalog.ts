// The table catalog on PostgreSQL: information_schema for tables and columns, ref.loads and
// ref.reference_data_cfg for their history and configuration, count(*) for row counts.
import type { CatalogColumnRow, CatalogStore, ReferenceConfigRow, TableDetail } from '../catalog';
import { LOADED_SCHEMAS, assembleTables, backupsOf, loadSummaryOf } from '../catalog';
import type { LoadMode, TableRef } from '../types';
import type { PgExecutor, PgSession, Row } from './executor';
import { qualified } from './sql';
import { loadFromRow } from './rows';

const UNDEFINED_TABLE = '42P01';
const DETAIL_LOADS = 10;

const COLUMNS_SQL = `
  SELECT c.table_schema, c.table_name, c.column_name, c.data_type, c.is_nullable,
         c.numeric_precision, c.numeric_scale, c.character_maximum_length
    FROM information_schema.columns c
    JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
   WHERE t.table_type = 'BASE TABLE' AND c.table_schema IN (${LOADED_SCHEMAS.map((s) => `'${s}'`).join(', ')})`;

/** The type as DDL would spell it: `numeric(12,4)`, `character varying(64)`, `text`. */
function dataTypeOf(r: Row): string {
  const t = String(r.data_type);
  if (t === 'numeric' && r.numeric_precision != null) return `numeric(${Number(r.numeric_precision)},${Number(r.numeric_scale)})`;
  if ((t === 'character varying' || t === 'character') && r.character_maximum_length != null) return `${t}(${Number(r.character_maximum_length)})`;
  return t;
}

function columnFromRow(r: Row): CatalogColumnRow {
  return { schema: String(r.table_schema), table: String(r.table_name), name: String(r.column_name), dataType: dataTypeOf(r), nullable: r.is_nullable === 'YES' };
}

const iso = (v: unknown) => new Date(v as string).toISOString();

export function configFromRow(r: Row): ReferenceConfigRow {
  return {
    id: Number(r.id),
    table: { schema: String(r.schema_name), name: String(r.table_name) },
    sourceFile: (r.source_file as string | null) ?? null,
    loadType: (r.load_type as LoadMode | null) ?? null,
    keyColumn: (r.key_column as string | null) ?? null,
    isActive: Boolean(r.is_active),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

/** Exact row count; null when the table went away meanwhile (a swap or revert between two statements). */
async function countOf(s: PgSession, t: TableRef): Promise<number | null> {
  try {
    const [row] = await s.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified(t)}`);
    return Number(row.n);
  } catch (err) {
    if ((err as { code?: string }).code === UNDEFINED_TABLE) return null;
    throw err;
  }
}

async function countsOf(s: PgSession, tables: TableRef[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const t of tables) {
    const n = await countOf(s, t);
    if (n !== null) counts.set(`${t.schema}.${t.name}`, n);
  }
  return counts;
}

export function createPostgresCatalogStore(exec: PgExecutor): CatalogStore {
  async function listConfigs(where = '', params: string[] = []): Promise<ReferenceConfigRow[]> {
    const rows = await exec.query(`SELECT * FROM ref.reference_data_cfg ${where} ORDER BY schema_name, table_name`, params);
    return rows.map(configFromRow);
  }

  return {
    async listTables() {
      const columns = (await exec.query(`${COLUMNS_SQL} ORDER BY c.table_schema, c.table_name, c.ordinal_position`)).map(columnFromRow);
      const loads = (
        await exec.query('SELECT DISTINCT ON (target_schema, target_table) * FROM ref.loads ORDER BY target_schema, target_table, started_at DESC')
      ).map(loadFromRow);
      const configs = await listConfigs();
      const counts = await countsOf(exec, assembleTables(columns, loads, configs, new Map()));
      // Tables that vanished between the catalog read and the count are left out rather than shown as empty.
      return assembleTables(columns, loads, configs, counts).filter((t) => counts.has(`${t.schema}.${t.name}`));
    },

    async getTable(table): Promise<TableDetail | null> {
      const columns = (
        await exec.query(`${COLUMNS_SQL} AND c.table_schema = $1 AND c.table_name = $2 ORDER BY c.ordinal_position`, [table.schema, table.name])
      ).map(columnFromRow);
      const loads = (
        await exec.query(`SELECT * FROM ref.loads WHERE target_schema = $1 AND target_table = $2 ORDER BY started_at DESC LIMIT ${DETAIL_LOADS}`, [
          table.schema, table.name,
        ])
      ).map(loadFromRow);
      const configs = await listConfigs('WHERE schema_name = $1 AND table_name = $2', [table.schema, table.name]);
      const count = columns.length > 0 ? await countOf(exec, table) : null;
      if (count === null) return null;
      const [summary] = assembleTables(columns, loads.slice(0, 1), configs, new Map([[`${table.schema}.${table.name}`, count]]));
      if (!summary) return null;
      const bkp = await exec.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'bkp'`);
      return { ...summary, loads: loads.map(loadSummaryOf), backups: backupsOf(table, bkp.map((r) => r.table_name)) };
    },

    listReferenceConfigs: () => listConfigs(),

    async deactivateReferenceConfig(table) {
      await exec.query('UPDATE ref.reference_data_cfg SET is_active = false, updated_at = now() WHERE schema_name = $1 AND table_name = $2', [
        table.schema, table.name,
      ]);
    },
  };
}
