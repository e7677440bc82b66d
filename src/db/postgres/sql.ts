// Pure SQL text for the PostgreSQL dialect: identifier quoting, type names, DDL for loads. Values never appear here.
import type { ColumnSpec, ColumnType, TableRef } from '../types';

export const LOAD_ID_COLUMN = 'refdata_load_id';

export function quoteIdent(name: string): string {
  if (!name || name.length > 63) throw new Error(`invalid identifier ${JSON.stringify(name)}: must be 1 to 63 characters`);
  if (name.includes('\0')) throw new Error('invalid identifier: contains a NUL character');
  return `"${name.replace(/"/g, '""')}"`;
}

export function qualified(t: TableRef): string {
  return `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
}

export function columnTypeSql(type: ColumnType): string {
  switch (type.kind) {
    case 'integer':
      return 'integer';
    case 'bigint':
      return 'bigint';
    case 'decimal':
      return `numeric(${Math.min(Math.max(type.precision, 1), 1000)},${Math.max(0, type.scale)})`;
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'datetime':
      return 'timestamp';
    case 'text':
      return 'text';
  }
}

export function createTableSql(t: TableRef, columns: ColumnSpec[]): string {
  const cols = columns.map((c) => `${quoteIdent(c.name)} ${columnTypeSql(c.type)}`);
  cols.push(`${quoteIdent(LOAD_ID_COLUMN)} varchar(64)`);
  return `CREATE TABLE ${qualified(t)} (${cols.join(', ')})`;
}

export function addColumnSql(t: TableRef, c: ColumnSpec): string {
  return `ALTER TABLE ${qualified(t)} ADD COLUMN IF NOT EXISTS ${quoteIdent(c.name)} ${columnTypeSql(c.type)}`;
}

export function copyCsvSql(t: TableRef, columns: string[]): string {
  const cols = [...columns, LOAD_ID_COLUMN].map(quoteIdent).join(', ');
  return `COPY ${qualified(t)} (${cols}) FROM STDIN WITH (FORMAT csv)`;
}

/** Moves `target` to bkp under `backup.name` and `shadow` into its place; run inside one transaction. */
export function swapSql(target: TableRef, shadow: TableRef, backup: TableRef | null): string[] {
  const out: string[] = [];
  if (backup) {
    out.push(`ALTER TABLE ${qualified(target)} RENAME TO ${quoteIdent(backup.name)}`);
    out.push(`ALTER TABLE ${qualified({ schema: target.schema, name: backup.name })} SET SCHEMA ${quoteIdent(backup.schema)}`);
  }
  out.push(`ALTER TABLE ${qualified(shadow)} RENAME TO ${quoteIdent(target.name)}`);
  return out;
}
