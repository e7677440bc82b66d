// Compares a file's columns with an existing table's columns to decide whether the file belongs to that table.
import type { ColumnSpec, TableColumn } from '../db/types';
import { RESERVED_COLUMN, normalizeIdentifier } from './table-name';
import { columnTypeFromSql } from './types';

/** Share of columns (in percent) that must match before a file is loaded into an existing table. */
export const MATCH_THRESHOLD = 70;

export interface ColumnMapping {
  file: string;
  table: string;
}

export interface SchemaMatch {
  /** Matched file columns / max(file columns, table columns) × 100, one decimal. */
  percent: number;
  mapping: ColumnMapping[];
  /** Table columns absent from the file. */
  missing: string[];
  /** File columns absent from the table. */
  extra: string[];
  /** percent ≥ MATCH_THRESHOLD. */
  isAcceptable: boolean;
}

/** `Customer ID`, `customer_id` and `CustomerId` are the same column. */
export function columnMatchKey(name: string): string {
  return normalizeIdentifier(name).replace(/_/g, '');
}

const isReserved = (name: string): boolean => columnMatchKey(name) === columnMatchKey(RESERVED_COLUMN);

export function matchSchema(fileColumns: string[], tableColumns: string[]): SchemaMatch {
  const files = fileColumns.filter((c) => !isReserved(c));
  const tables = tableColumns.filter((c) => !isReserved(c));
  const pairs = new Map<string, string>();
  const claimed = new Set<string>();
  // Two passes: the same name first, then the looser key (case, spaces, underscores). So `customer_id` in the file
  // takes the table's `customer_id` even when a `CustomerID` comes before it, and a column left unpaired never
  // bears the name of a table column another file column took.
  const pass = (keyOf: (name: string) => string) => {
    const free = new Map<string, string>();
    for (const table of tables) if (!claimed.has(table) && !free.has(keyOf(table))) free.set(keyOf(table), table);
    for (const file of files) {
      if (pairs.has(file)) continue;
      const table = free.get(keyOf(file));
      if (table === undefined) continue;
      free.delete(keyOf(file));
      claimed.add(table);
      pairs.set(file, table);
    }
  };
  pass((name) => normalizeIdentifier(name));
  pass(columnMatchKey);
  const mapping: ColumnMapping[] = files.filter((f) => pairs.has(f)).map((file) => ({ file, table: pairs.get(file)! }));
  const extra = files.filter((f) => !pairs.has(f));
  const missing = tables.filter((t) => !claimed.has(t));
  const denominator = Math.max(files.length, tables.length);
  const percent = denominator === 0 ? 0 : Math.round((mapping.length / denominator) * 1000) / 10;
  return { percent, mapping, missing, extra, isAcceptable: percent >= MATCH_THRESHOLD };
}

/**
 * The file's columns named as the table columns the match paired them with (`CustomerID` → `customer_id`), so rows
 * go where the match said they would; unpaired columns keep their own names (an append adds them to the table).
 */
export function withPairedNames(columns: ColumnSpec[], match: SchemaMatch): ColumnSpec[] {
  const tableOf = new Map(match.mapping.map((m) => [m.file, m.table]));
  return columns.map((c) => ({ ...c, name: tableOf.get(c.name) ?? c.name }));
}

/**
 * An append converts each value to the type of the table column it goes into (the stage table is a copy of the
 * target), not the type the file's sample suggested: so a value that does not fit is found row by row, named by
 * row and column, and quarantined under that policy, instead of the database refusing the whole batch.
 */
export function withTableTypes(columns: ColumnSpec[], table: TableColumn[]): ColumnSpec[] {
  const types = new Map(table.map((c) => [c.name, columnTypeFromSql(c.dataType)]));
  return columns.map((c) => {
    const type = types.get(c.name);
    return type ? { name: c.name, type } : c;
  });
}
