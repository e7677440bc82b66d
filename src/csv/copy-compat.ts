// Decides whether a file's values can go to PostgreSQL's COPY as they are (the fast path), or need converting first.
import type { ColumnSpec } from '../db/types';
import { convertValue } from './types';

const pgBoolean = /^\s*(t|f|true|false|y|yes|n|no|on|off|1|0)\s*$/i;

/** True when the server would read `value` exactly as our own conversion would. */
function serverReadsAsIs(value: string, column: ColumnSpec): boolean {
  if (value === '') return true;
  const t = column.type;
  if (t.kind === 'text') return true;
  if (t.kind === 'boolean') return pgBoolean.test(value);
  let converted: string | null;
  try {
    converted = convertValue(value, t);
  } catch {
    return false;
  }
  if (converted === null) return false; // a NULL spelling like `NULL` or `\N` that COPY would not read as NULL
  const trimmed = value.trim();
  if (converted === trimmed) return true;
  // ISO datetimes with a `T` but no zone read the same either way.
  return t.kind === 'datetime' && !/[zZ]|[+-]\d\d:?\d\d$/.test(trimmed) && converted === trimmed.replace('T', ' ');
}

/**
 * Whether every sampled cell is in a form COPY reads the same way our converter does. The loader still
 * falls back to converting a batch when COPY rejects it, so this only has to be right for the sample.
 */
export function isCopyCompatible(columns: ColumnSpec[], rows: string[][]): boolean {
  for (const row of rows) {
    if (row.length !== columns.length) return false;
    for (let i = 0; i < columns.length; i++) {
      if (!serverReadsAsIs(row[i], columns[i])) return false;
    }
  }
  return true;
}
