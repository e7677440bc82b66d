// The table catalog: what refdata has loaded (tables in ref and data), with row counts, columns, last load and
// reference-config row. Intentions only; each dialect reads its own system catalog. Assembly here is pure.
import type { LoadMode, LoadRecord, TableColumn, TableRef } from './types';
import { reservedTables } from './load-names';

/** Schemas that hold loaded tables: ref for reference data, data for the rest. */
export const LOADED_SCHEMAS = ['ref', 'data'] as const;
/** The column every loaded table carries; a table without it was not made by a load. */
export const LOAD_ID_COLUMN = 'refdata_load_id';

/** One row of ref.reference_data_cfg. */
export interface ReferenceConfigRow {
  id: number;
  table: TableRef;
  sourceFile: string | null;
  loadType: LoadMode | null;
  keyColumn: string | null;
  isActive: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface LoadSummary {
  loadId: string;
  mode: LoadMode;
  status: LoadRecord['status'];
  rows: number;
  filePath: string;
  startedAt: string;
  finishedAt: string | null;
}

export interface TableSummary {
  schema: string;
  name: string;
  /** Reference data lives in schema ref. */
  referenceData: boolean;
  rowCount: number;
  /** The loaded columns; refdata's own load-id column is left out. */
  columns: TableColumn[];
  /** The most recent load of this table (any status), from ref.loads. */
  lastLoad: LoadSummary | null;
  config: ReferenceConfigRow | null;
}

export interface TableDetail extends TableSummary {
  /** The latest loads, newest first. */
  loads: LoadSummary[];
  /** Copies kept in schema bkp by fullloads (and reverts), newest first. */
  backups: string[];
}

export interface CatalogStore {
  /** Every loaded table in ref and data, ordered by schema and name. */
  listTables(): Promise<TableSummary[]>;
  /** One table in detail; null when it does not exist or was not made by a load. */
  getTable(table: TableRef): Promise<TableDetail | null>;
  listReferenceConfigs(): Promise<ReferenceConfigRow[]>;
  /** Marks a config row inactive (its table is gone); the row stays for the record. */
  deactivateReferenceConfig(table: TableRef): Promise<void>;
}

/** Shadow (fullload) and stage (append) tables of loads in flight carry the load-id column too, but are not tables yet. */
export function isLoadedTableName(name: string): boolean {
  return !reservedTables.has(name) && !/__(shadow|stage)_[a-z0-9]+$/.test(name);
}

/** bkp tables that hold copies of `table` (`<name[0..40]>__<yyyymmddhhmmss>_<id>`), newest first. */
export function backupsOf(table: TableRef, bkpTables: string[]): string[] {
  const prefix = `${table.name.slice(0, 40)}__`;
  return bkpTables
    .filter((n) => n.startsWith(prefix) && /^\d{14}_[a-z0-9]+$/.test(n.slice(prefix.length)))
    .sort((a, b) => b.slice(prefix.length).localeCompare(a.slice(prefix.length)))
    .map((n) => `bkp.${n}`);
}

export interface CatalogColumnRow extends TableColumn {
  schema: string;
  table: string;
}

const keyOf = (t: TableRef) => `${t.schema}.${t.name}`;

export function loadSummaryOf(l: LoadRecord): LoadSummary {
  return {
    loadId: l.loadId, mode: l.mode, status: l.status, rows: l.rowsCommitted, filePath: l.filePath,
    startedAt: l.startedAt.toISOString(), finishedAt: l.finishedAt ? l.finishedAt.toISOString() : null,
  };
}

/**
 * Puts the catalog's pieces together: tables are those of `columns` that carry the load-id column and are not
 * shadows or stages; `lastLoads` holds the newest load per table, `counts` the row count per `schema.name`.
 */
export function assembleTables(
  columns: CatalogColumnRow[],
  lastLoads: LoadRecord[],
  configs: ReferenceConfigRow[],
  counts: Map<string, number>,
): TableSummary[] {
  const byTable = new Map<string, { ref: TableRef; cols: CatalogColumnRow[] }>();
  for (const c of columns) {
    const key = keyOf({ schema: c.schema, name: c.table });
    const entry = byTable.get(key) ?? { ref: { schema: c.schema, name: c.table }, cols: [] };
    entry.cols.push(c);
    byTable.set(key, entry);
  }
  const loadOf = new Map(lastLoads.map((l) => [keyOf(l.target), l]));
  const configOf = new Map(configs.map((c) => [keyOf(c.table), c]));
  const out: TableSummary[] = [];
  for (const [key, { ref, cols }] of byTable) {
    if (!cols.some((c) => c.name === LOAD_ID_COLUMN) || !isLoadedTableName(ref.name)) continue;
    const last = loadOf.get(key);
    out.push({
      schema: ref.schema,
      name: ref.name,
      referenceData: ref.schema === 'ref',
      rowCount: counts.get(key) ?? 0,
      columns: cols.filter((c) => c.name !== LOAD_ID_COLUMN).map(({ name, dataType, nullable }) => ({ name, dataType, nullable })),
      lastLoad: last ? loadSummaryOf(last) : null,
      config: configOf.get(key) ?? null,
    });
  }
  return out.sort((a, b) => a.schema.localeCompare(b.schema) || a.name.localeCompare(b.name));
}

/** The newest load per target table, from loads listed in any order. */
export function newestLoadPerTable(loads: LoadRecord[]): LoadRecord[] {
  const newest = new Map<string, LoadRecord>();
  for (const l of loads) {
    const cur = newest.get(keyOf(l.target));
    if (!cur || l.startedAt > cur.startedAt) newest.set(keyOf(l.target), l);
  }
  return [...newest.values()];
}
