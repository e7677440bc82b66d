// Infers the narrowest column type for each column of sample rows, converts cells to the text a database accepts,
// and names the SQL type each dialect uses for a column type.
import type { ColumnSpec, ColumnType } from '../db/types';
import { CsvFormatError } from './errors';
import { isNullValue, isWordBoolean, parseBoolean, parseDate, parseDatetime, parseNumber } from './values';

export type SqlDialect = 'postgres' | 'mssql';

/** Largest precision both dialects support for numeric/decimal. */
export const MAX_DECIMAL_PRECISION = 38;
/** nvarchar(n) stops at 4000; longer text needs nvarchar(max). */
export const MAX_NVARCHAR_LENGTH = 4000;

const INT32_MIN = -2147483648n;
const INT32_MAX = 2147483647n;
const INT64_MIN = -9223372036854775808n;
const INT64_MAX = 9223372036854775807n;

/** What one column could still be after the values seen so far; each flag only ever turns false. */
interface ColumnEvidence {
  seen: number;
  maxLength: number;
  integer: boolean;
  bigint: boolean;
  decimal: boolean;
  maxIntDigits: number;
  maxScale: number;
  boolean: boolean;
  sawWordBoolean: boolean;
  date: boolean;
  datetime: boolean;
  sawDatetime: boolean;
}

function newEvidence(): ColumnEvidence {
  return {
    seen: 0, maxLength: 0, integer: true, bigint: true, decimal: true, maxIntDigits: 0, maxScale: 0,
    boolean: true, sawWordBoolean: false, date: true, datetime: true, sawDatetime: false,
  };
}

function observeNumber(e: ColumnEvidence, value: string): void {
  const n = parseNumber(value);
  if (!n) {
    e.integer = e.bigint = e.decimal = false;
    return;
  }
  e.maxIntDigits = Math.max(e.maxIntDigits, n.intDigits.length);
  e.maxScale = Math.max(e.maxScale, n.fraction.length);
  if (n.hasPoint) {
    e.integer = e.bigint = false;
  } else if (e.bigint && n.intDigits.length >= 10) {
    const big = BigInt(n.negative ? `-${n.intDigits}` : n.intDigits);
    if (big < INT32_MIN || big > INT32_MAX) e.integer = false;
    if (big < INT64_MIN || big > INT64_MAX) e.bigint = false;
  }
  if (e.maxIntDigits + e.maxScale > MAX_DECIMAL_PRECISION) e.decimal = false;
}

function observe(e: ColumnEvidence, raw: string): void {
  e.maxLength = Math.max(e.maxLength, raw.length);
  if (isNullValue(raw)) return;
  e.seen++;
  const value = raw.trim();
  if (e.decimal || e.bigint) observeNumber(e, value);
  if (e.boolean) {
    if (parseBoolean(value) === null) e.boolean = false;
    else if (isWordBoolean(value)) e.sawWordBoolean = true;
  }
  if (e.date || e.datetime) {
    const isDate = parseDate(value) !== null;
    if (!isDate) e.date = false;
    if (!isDate && (!e.datetime || parseDatetime(value) === null)) e.datetime = false;
    else if (!isDate) e.sawDatetime = true;
  }
}

function decide(e: ColumnEvidence): ColumnType {
  if (e.seen === 0) return { kind: 'text', maxLength: e.maxLength };
  if (e.boolean && e.sawWordBoolean) return { kind: 'boolean' };
  if (e.integer) return { kind: 'integer' };
  if (e.bigint) return { kind: 'bigint' };
  if (e.decimal) return { kind: 'decimal', precision: Math.max(1, e.maxIntDigits + e.maxScale), scale: e.maxScale };
  if (e.date && !e.sawDatetime) return { kind: 'date' };
  if (e.datetime) return { kind: 'datetime' };
  return { kind: 'text', maxLength: e.maxLength };
}

/**
 * Narrowest type per column. Empty cells (and NULL / \N) are NULL and decide nothing; a column with no values is
 * text. Text `maxLength` counts UTF-16 code units, which is what nvarchar(n) counts.
 */
export function inferColumns(names: string[], rows: string[][]): ColumnSpec[] {
  const evidence = names.map(() => newEvidence());
  for (const row of rows) {
    for (let c = 0; c < evidence.length; c++) {
      const value = row[c];
      const e = evidence[c];
      if (value !== undefined && e) observe(e, value);
    }
  }
  return names.map((name, c) => ({ name, type: decide(evidence[c] ?? newEvidence()) }));
}

function typeLabel(type: ColumnType): string {
  return type.kind === 'decimal' ? `decimal(${type.precision},${type.scale})` : type.kind;
}

function conversionError(value: string, type: ColumnType, why = ''): CsvFormatError {
  const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
  return new CsvFormatError('TYPE_CONVERSION', `Value "${shown}" is not a valid ${typeLabel(type)}${why}.`);
}

function convertInteger(value: string, type: ColumnType, min: bigint, max: bigint): string {
  if (!/^[+-]?\d+$/.test(value)) throw conversionError(value, type);
  const n = BigInt(value);
  if (n < min || n > max) throw conversionError(value, type, ` (outside ${min} to ${max})`);
  return n.toString();
}

function convertDecimal(value: string, type: { kind: 'decimal'; precision: number; scale: number }, bounded: boolean): string {
  const n = parseNumber(value.replace(/^([+-]?)0+(?=\d)/, '$1'));
  if (!n) throw conversionError(value, type);
  if (bounded && n.intDigits.length > type.precision - type.scale) {
    throw conversionError(value, type, ` (more than ${type.precision - type.scale} digits before the point)`);
  }
  // Fraction digits are kept as written: where the column is unbounded (PostgreSQL) they are stored exactly, and a
  // bounded column's database refuses what does not fit rather than this converter guessing at rounding.
  const text = `${n.intDigits || '0'}${n.fraction ? `.${n.fraction}` : ''}`;
  return n.negative && /[1-9]/.test(text) ? `-${text}` : text;
}

export interface ConvertOptions {
  /**
   * Whether a decimal must fit the precision the sample showed (default true). False where the column is created
   * unbounded (PostgreSQL's `numeric`), so that a wider value further down the file loads exactly, on either path.
   */
  decimalBounds?: boolean;
}

/** Canonical database text for one cell, null for empty; throws TYPE_CONVERSION when the value does not fit. */
export function convertValue(value: string, type: ColumnType, opts: ConvertOptions = {}): string | null {
  if (type.kind === 'text') return value === '' ? null : value;
  if (isNullValue(value)) return null;
  const trimmed = value.trim();
  switch (type.kind) {
    case 'integer':
      return convertInteger(trimmed, type, INT32_MIN, INT32_MAX);
    case 'bigint':
      return convertInteger(trimmed, type, INT64_MIN, INT64_MAX);
    case 'decimal':
      return convertDecimal(trimmed, type, opts.decimalBounds ?? true);
    case 'boolean': {
      const b = parseBoolean(trimmed);
      if (b === null) throw conversionError(value, type);
      return b ? 'true' : 'false';
    }
    case 'date': {
      const d = parseDate(trimmed);
      if (d === null) throw conversionError(value, type);
      return d;
    }
    case 'datetime': {
      const dt = parseDatetime(trimmed) ?? (parseDate(trimmed) === null ? null : `${parseDate(trimmed)} 00:00:00`);
      if (dt === null) throw conversionError(value, type);
      return dt;
    }
  }
}

/**
 * The column type of an existing table's column from the catalog's type name (either dialect: `integer`, `int`,
 * `numeric(12,4)`, `timestamp without time zone`, `datetime2`, `nvarchar(50)`, …); null for types refdata does not
 * create, whose values are left to the database.
 */
export function columnTypeFromSql(dataType: string): ColumnType | null {
  const t = dataType.trim().toLowerCase();
  if (t === 'integer' || t === 'int') return { kind: 'integer' };
  if (t === 'bigint') return { kind: 'bigint' };
  const decimal = /^(?:numeric|decimal)(?:\((\d+),\s*(\d+)\))?$/.exec(t);
  if (decimal) return { kind: 'decimal', precision: Number(decimal[1] ?? MAX_DECIMAL_PRECISION), scale: Number(decimal[2] ?? 0) };
  if (t === 'boolean' || t === 'bit') return { kind: 'boolean' };
  if (t === 'date') return { kind: 'date' };
  if (t === 'timestamp' || t === 'timestamp without time zone' || t === 'datetime2' || t === 'datetime') return { kind: 'datetime' };
  if (/^(?:text|character varying|varchar|nvarchar|character|char|nchar)(?:\(.*\))?$/.test(t)) return { kind: 'text' };
  return null;
}

/** The SQL type a dialect creates for a column type. */
export function mapColumnTypeToSql(type: ColumnType, dialect: SqlDialect): string {
  const pg = dialect === 'postgres';
  switch (type.kind) {
    case 'integer':
      return pg ? 'integer' : 'int';
    case 'bigint':
      return 'bigint';
    case 'decimal':
      return pg ? 'numeric' : `decimal(${type.precision},${type.scale})`;
    case 'boolean':
      return pg ? 'boolean' : 'bit';
    case 'date':
      return 'date';
    case 'datetime':
      return pg ? 'timestamp' : 'datetime2';
    case 'text': {
      if (pg) return 'text';
      const n = type.maxLength;
      return n === undefined || n > MAX_NVARCHAR_LENGTH ? 'nvarchar(max)' : `nvarchar(${Math.max(1, n)})`;
    }
  }
}
