// Turns a batch of text rows into an mssql bulk Table: the staging table's real column types, values as JS values.
import sql from 'mssql';
import { DataError, type TableRef } from '../types';
import type { CatalogColumn } from './catalog';
import { exactDecimal, scaleDecimal } from './exact-decimal';
import { LOAD_ID_COLUMN, qualified, quoteIdent } from './sql';

/** How a column's text is converted before it goes over the wire. */
export type BulkKind = 'int' | 'bigint' | 'decimal' | 'float' | 'bit' | 'date' | 'datetime' | 'text';
export type BulkValue = string | number | boolean | Date | null;

export interface BulkColumn {
  name: string;
  kind: BulkKind;
  /** mssql type factory result for the `insert bulk` column list. */
  sqlType: sql.ISqlType;
  /** Bounds of an integer column narrower than bigint. */
  range?: readonly [number, number];
  /** decimal(precision, scale) of a decimal column. */
  decimal?: { precision: number; scale: number };
  /** Characters a sized text column holds; the server's own refusal ("invalid column length") names neither. */
  maxLength?: number;
}

const INT_RANGE = {
  int: [-2147483648, 2147483647],
  smallint: [-32768, 32767],
  tinyint: [0, 255],
} as const;

function textColumn(name: string, dataType: string, length: number | null): BulkColumn {
  const sized = length !== null && length !== -1;
  // The server refuses to load a sized column into a max one, so max is declared as max.
  const size = sized ? length : sql.MAX;
  const sqlType =
    dataType === 'nvarchar' ? sql.NVarChar(size) : dataType === 'varchar' ? sql.VarChar(size) : dataType === 'nchar' ? sql.NChar(length ?? 1) : sql.Char(length ?? 1);
  return sized ? { name, kind: 'text', sqlType, maxLength: length } : { name, kind: 'text', sqlType };
}

export function bulkColumnOf(c: CatalogColumn): BulkColumn {
  const name = c.column_name;
  switch (c.data_type) {
    case 'int':
      return { name, kind: 'int', sqlType: sql.Int(), range: INT_RANGE.int };
    case 'smallint':
      return { name, kind: 'int', sqlType: sql.SmallInt(), range: INT_RANGE.smallint };
    case 'tinyint':
      return { name, kind: 'int', sqlType: sql.TinyInt(), range: INT_RANGE.tinyint };
    case 'bigint':
      return { name, kind: 'bigint', sqlType: sql.BigInt() };
    case 'decimal':
    case 'numeric': {
      const decimal = { precision: c.numeric_precision ?? 18, scale: c.numeric_scale ?? 0 };
      return { name, kind: 'decimal', sqlType: exactDecimal(decimal.precision, decimal.scale), decimal };
    }
    case 'float':
      return { name, kind: 'float', sqlType: sql.Float() };
    case 'real':
      return { name, kind: 'float', sqlType: sql.Real() };
    case 'bit':
      return { name, kind: 'bit', sqlType: sql.Bit() };
    case 'date':
      return { name, kind: 'date', sqlType: sql.Date() };
    case 'datetime2':
      return { name, kind: 'datetime', sqlType: sql.DateTime2(c.datetime_precision ?? 7) };
    case 'datetime':
      return { name, kind: 'datetime', sqlType: sql.DateTime() };
    case 'nvarchar':
    case 'varchar':
    case 'nchar':
    case 'char':
      return textColumn(name, c.data_type, c.max_length);
    default:
      throw new Error(`column ${name} has type ${c.data_type}, which refdata cannot bulk load; change the column or load into a new table`);
  }
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

function utcDate(y: string, m: string, d: string, hh = '0', mm = '0', ss = '0', fraction = ''): Date | null {
  const [year, month, day, hours, minutes, seconds] = [y, m, d, hh, mm, ss].map(Number) as [number, number, number, number, number, number];
  if (year < 1 || hours > 23 || minutes > 59 || seconds > 59) return null;
  const ms = fraction ? Math.floor(Number(`0${fraction}`) * 1000) : 0;
  const date = new Date(Date.UTC(2000, 0, 1, hours, minutes, seconds, ms));
  // setUTCFullYear takes years 1–99 literally (Date.UTC would read them as 19xx).
  date.setUTCFullYear(year, month - 1, day);
  // Impossible dates (2023-02-30) roll over into the next month; the round trip catches them.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return date;
}

function parseDateTime(value: string): Date | null {
  const m = DATETIME.exec(value);
  if (!m) return null;
  const [, y, mo, d, hh, mm, ss, fraction, zone] = m;
  const wall = utcDate(y!, mo!, d!, hh, mm, ss ?? '0', fraction ?? '');
  if (!wall || !zone || zone.toUpperCase() === 'Z') return wall;
  // An explicit offset: wall clock minus offset is UTC; datetime2 stores the UTC instant.
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
  return new Date(wall.getTime() - offsetMinutes * 60_000);
}

/**
 * Text as the loader produced it (null for empty) to the value the driver sends. Times without an offset are
 * wall-clock values stored as written (the driver writes Dates in UTC). Decimals and bigints stay strings: a
 * double would lose their digits (decimals are encoded exactly by exact-decimal.ts, bigints by the driver).
 */
export function toBulkValue(column: BulkColumn, value: string | null): BulkValue {
  if (value === null) return null;
  const t = value.trim();
  const invalid = () =>
    new Error(`column ${column.name}: '${t.length > 50 ? `${t.slice(0, 50)}…` : t}' is not a valid ${column.kind} value`);
  switch (column.kind) {
    case 'text':
      if (column.maxLength !== undefined && value.length > column.maxLength) {
        throw new Error(`column ${column.name}: a value of ${value.length} characters does not fit in ${column.maxLength}`);
      }
      return value;
    case 'int': {
      if (!INTEGER.test(t)) throw invalid();
      const n = Number(t);
      const [min, max] = column.range ?? INT_RANGE.int;
      if (n < min || n > max) throw invalid();
      return n;
    }
    case 'bigint': {
      if (!INTEGER.test(t)) throw invalid();
      const n = BigInt(t);
      if (n < -(2n ** 63n) || n > 2n ** 63n - 1n) throw invalid();
      return n.toString();
    }
    case 'decimal': {
      const { precision, scale } = column.decimal ?? { precision: 38, scale: 0 };
      if (!DECIMAL.test(t)) throw invalid();
      try {
        scaleDecimal(t, precision, scale);
      } catch {
        throw new Error(`column ${column.name}: ${t} does not fit decimal(${precision},${scale})`);
      }
      return t;
    }
    case 'float': {
      const n = Number(t);
      if (t === '' || !Number.isFinite(n)) throw invalid();
      return n;
    }
    case 'bit': {
      const b = t.toLowerCase();
      if (b === 'true' || b === '1') return true;
      if (b === 'false' || b === '0') return false;
      throw invalid();
    }
    case 'date': {
      const m = DATE.exec(t);
      const d = m ? utcDate(m[1]!, m[2]!, m[3]!) : null;
      if (!d) throw invalid();
      return d;
    }
    case 'datetime': {
      const d = DATE.test(t) ? parseDateTime(`${t}T00:00:00`) : parseDateTime(t);
      if (!d) throw invalid();
      return d;
    }
  }
}

/**
 * The bulk Table for one batch into `staging`: the named columns plus the load id tag. The path is set from our
 * own quoting (mssql's parser would reject a `]` in a name); column names are sent with `]` doubled, as tedious
 * wraps them in brackets verbatim.
 */
export function buildBulkTable(staging: TableRef, columns: BulkColumn[], rows: (string | null)[][], loadId: string): sql.Table {
  const table = new sql.Table();
  table.create = false;
  table.schema = staging.schema;
  table.name = staging.name;
  table.path = qualified(staging);
  for (const c of columns) table.columns.add(quoteIdent(c.name).slice(1, -1), c.sqlType, { nullable: true });
  table.columns.add(LOAD_ID_COLUMN, sql.NVarChar(64), { nullable: true });
  rows.forEach((row, i) => {
    if (row.length !== columns.length) throw new Error(`row ${i + 1} of the batch has ${row.length} values for ${columns.length} columns`);
    const values = row.map((v, j) => {
      try {
        return toBulkValue(columns[j]!, v);
      } catch (err) {
        // The value's fault, not the server's: a DataError fails the file with its row and column (or quarantines
        // the row) instead of being retried as if it could pass next time. 8152: SQL Server's "value too long".
        const tooLong = columns[j]!.kind === 'text';
        throw new DataError(`row ${i + 1} of the batch: ${(err as Error).message}`, tooLong ? '8152' : '245', i + 1, columns[j]!.name);
      }
    });
    table.rows.add(...values, loadId);
  });
  return table;
}
