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
  const unclaimed = new Map<string, string>();
  for (const table of tables) {
    const key = columnMatchKey(table);
    if (!unclaimed.has(key)) unclaimed.set(key, table);
  }
  const mapping: ColumnMapping[] = [];
  const extra: string[] = [];
  for (const file of files) {
    const key = columnMatchKey(file);
    const table = unclaimed.get(key);
    if (table === undefined) {
      extra.push(file);
      continue;
    }
    unclaimed.delete(key);
    mapping.push({ file, table });
  }
  const matchedTables = new Set(mapping.map((m) => m.table));
  const missing = tables.filter((t) => !matchedTables.has(t));
  const denominator = Math.max(files.length, tables.length);
  const percent = denominator === 0 ? 0 : Math.round((mapping.length / denominator) * 1000) / 10;
  return { percent, mapping, missing, extra, isAcceptable: percent >= MATCH_THRESHOLD };
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
