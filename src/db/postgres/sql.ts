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
      // Unbounded: the sample's precision and scale are only what the first rows showed, and COPY into numeric(p,s)
      // would silently round a later value with more decimals (0.005 into numeric(2,2) is 0.01). Exact beats tight.
      return 'numeric';
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

/** Load ids are ours (`load_<uuid>`); checked anyway because DDL cannot take parameters. */
export function loadIdLiteral(loadId: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(loadId)) throw new Error(`invalid load id ${JSON.stringify(loadId)}`);
  return `'${loadId}'`;
}

/** The loaded table; with `loadId`, its load-id column defaults to it so COPY of raw records tags every row. */
export function createTableSql(t: TableRef, columns: ColumnSpec[], loadId?: string): string {
  const cols = columns.map((c) => `${quoteIdent(c.name)} ${columnTypeSql(c.type)}`);
  cols.push(`${quoteIdent(LOAD_ID_COLUMN)} varchar(64)${loadId ? ` DEFAULT ${loadIdLiteral(loadId)}` : ''}`);
  return `CREATE TABLE ${qualified(t)} (${cols.join(', ')})`;
}

/** An unlogged copy of the target's shape that an append load fills before moving its rows in at once. */
export function createStageSql(stage: TableRef, target: TableRef, loadId: string): string[] {
  return [
    `CREATE UNLOGGED TABLE ${qualified(stage)} (LIKE ${qualified(target)} INCLUDING DEFAULTS)`,
    `ALTER TABLE ${qualified(stage)} ALTER COLUMN ${quoteIdent(LOAD_ID_COLUMN)} SET DEFAULT ${loadIdLiteral(loadId)}`,
  ];
}

function charLiteral(c: string): string {
  if (c.length !== 1) throw new Error(`invalid CSV character ${JSON.stringify(c)}`);
  if (c === '\t') return "E'\\t'";
  return `'${c.replace(/'/g, "''")}'`;
}

/** COPY of raw CSV records: the server parses fields; quoted empty fields are NULL too, as in our converter. */
export function copyRawCsvSql(t: TableRef, columns: string[], delimiter: string, quote: string): string {
  const cols = columns.map(quoteIdent).join(', ');
  return `COPY ${qualified(t)} (${cols}) FROM STDIN WITH (FORMAT csv, DELIMITER ${charLiteral(delimiter)}, QUOTE ${charLiteral(quote)}, ESCAPE ${charLiteral(quote)}, FORCE_NULL (${cols}))`;
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
