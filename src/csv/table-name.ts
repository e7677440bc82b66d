// Turns file names and header cells into safe SQL identifiers (lowercase [a-z0-9_], ≤ 63 chars, no leading digit).
import { CsvFormatError } from './errors';

/** PostgreSQL truncates identifiers beyond 63 bytes; staying under it keeps names identical in both dialects. */
export const MAX_IDENTIFIER_LENGTH = 63;
/** Column every load adds to its table; a file column must never take this name. */
export const RESERVED_COLUMN = 'refdata_load_id';

// Extensions removed after the last one, so `airports.csv.gz` names the same table as `airports.csv`.
const DATA_EXTENSIONS = new Set(['csv', 'tsv', 'txt', 'psv', 'dat', 'gz', 'zip']);

const DATE = '(?:19|20)\\d{2}(?:(0[1-9]|1[0-2])(0[1-9]|[12]\\d|3[01])|([-_])(0[1-9]|1[0-2])\\3(0[1-9]|[12]\\d|3[01]))';
const TIME = '(?:[t_\\- ]?(?:[01]\\d|2[0-3])(?:[-_:]?[0-5]\\d){1,2}(?:\\.\\d+)?)?';
// Stamps count only when no digit touches them: `orders_12345678` is not a date.
const DATE_STAMP_RE = new RegExp(`(?<!\\d)${DATE}${TIME}(?!\\d)`, 'g');

function baseName(fileName: string): string {
  const name = fileName.split(/[\\/]/).pop() ?? '';
  const parts = name.split('.');
  if (parts.length > 1 && parts[0] !== '') parts.pop();
  while (parts.length > 1 && DATA_EXTENSIONS.has((parts[parts.length - 1] ?? '').toLowerCase())) parts.pop();
  return parts.join('.');
}

// Latin letters that Unicode decomposition leaves alone but readers expect spelled out.
const LETTERS: Record<string, string> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', đ: 'd', ł: 'l', þ: 'th' };

/** Lowercases, folds accents (é → e) and collapses everything outside [a-z0-9] into single underscores. */
function toSnake(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[ßæœøđłþ]/g, (ch) => LETTERS[ch] ?? '_')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

function capLength(name: string, max = MAX_IDENTIFIER_LENGTH): string {
  return name.length <= max ? name : name.slice(0, max).replace(/_+$/, '');
}

/** Identifier for any name: same character rules as table names; `digitPrefix` goes before a leading digit. */
export function normalizeIdentifier(name: string, digitPrefix: 't_' | 'c_' = 'c_'): string {
  const snake = toSnake(name);
  return capLength(/^\d/.test(snake) ? `${digitPrefix}${snake}` : snake);
}

/** Table name for a dropped file: `airports_20241201.csv` → `airports`, `2024_report.csv` → `t_2024_report`. */
export function deriveTableName(fileName: string): string {
  const base = baseName(fileName).toLowerCase().replace(DATE_STAMP_RE, '_');
  const table = normalizeIdentifier(base, 't_');
  if (table === '') {
    throw new CsvFormatError(
      'INVALID_NAME',
      `Cannot derive a table name from file "${fileName}": nothing is left after removing the extension, date stamps and punctuation. Rename the file to start with a word, e.g. airports_20241201.csv.`,
    );
  }
  return table;
}

function withSuffix(base: string, n: number): string {
  const suffix = `_${n}`;
  return `${capLength(base, MAX_IDENTIFIER_LENGTH - suffix.length)}${suffix}`;
}

/**
 * Column names for header cells: normalised, unique (`name`, `name_2`, …), `column_N` for empty cells, never
 * `refdata_load_id`. Names that occur once keep their spelling even when a duplicate's suffix would want it.
 */
export function normalizeColumnNames(headers: string[]): string[] {
  const bases = headers.map((h, i) => normalizeIdentifier(h) || `column_${i + 1}`);
  const counts = new Map<string, number>();
  for (const base of bases) counts.set(base, (counts.get(base) ?? 0) + 1);
  const used = new Set<string>([RESERVED_COLUMN]);
  for (const base of bases) if (counts.get(base) === 1 && base !== RESERVED_COLUMN) used.add(base);
  return bases.map((base) => {
    if (counts.get(base) === 1 && base !== RESERVED_COLUMN) return base;
    let name = used.has(base) ? '' : base;
    for (let n = 2; name === ''; n++) {
      const candidate = withSuffix(base, n);
      if (!used.has(candidate)) name = candidate;
    }
    used.add(name);
    return name;
  });
}

/** Header cells that collide after normalisation, for callers that refuse instead of renaming. */
export function findDuplicateHeaders(headers: string[]): string[][] {
  const groups = new Map<string, string[]>();
  headers.forEach((h, i) => {
    const key = normalizeIdentifier(h) || `column_${i + 1}`;
    groups.set(key, [...(groups.get(key) ?? []), h]);
  });
  return [...groups.values()].filter((g) => g.length > 1);
}
