// Recognisers for single cell values, shared by type inference, dialect scoring and header detection so they agree.

/** Coarse class of one cell; `number-like` is numeric to a human (1,5 / 1e5 / 12% / 007) but not loaded as a number. */
export type CellClass = 'empty' | 'integer' | 'decimal' | 'boolean' | 'date' | 'datetime' | 'number-like' | 'text';

// Spellings database exports use for NULL; `NA` is left out on purpose (it is Namibia's country code).
const NULL_TOKENS = new Set(['null', '\\n']);

const TRUE_TOKENS = new Set(['true', 'yes', 'y', 't', '1']);
const FALSE_TOKENS = new Set(['false', 'no', 'n', 'f', '0']);

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

// No leading zeros: `007` is a code and must stay text.
const NUMBER_RE = /^([+-]?)(0|[1-9]\d*)?(?:\.(\d*))?$/;
const NUMBER_LIKE_RE = /^[+-]?[$€£]?(?:\d[\d,. ']*)?\d(?:[eE][+-]?\d+)?%?$/;
const ISO_DATE_RE = /^(\d{4})([-/])(\d{2})\2(\d{2})$/;
const MON_DATE_RE = /^(\d{1,2})[- ]([A-Za-z]{3,9})[- ](\d{4})$/;
const DATETIME_RE = /^(\d{4})([-/])(\d{2})\2(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const TIME_RE = /^\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/;

export function isNullValue(value: string): boolean {
  const trimmed = value.trim();
  return trimmed === '' || NULL_TOKENS.has(trimmed.toLowerCase());
}

export interface NumberParts {
  negative: boolean;
  /** Integer digits without leading zeros ('' for 0.5). */
  intDigits: string;
  fraction: string;
  hasPoint: boolean;
}

export function parseNumber(value: string): NumberParts | null {
  const m = NUMBER_RE.exec(value.trim());
  if (!m) return null;
  const intPart = m[2] ?? '';
  const fraction = m[3] ?? '';
  if (intPart === '' && fraction === '') return null;
  return { negative: m[1] === '-', intDigits: intPart === '0' ? '' : intPart, fraction, hasPoint: m[3] !== undefined };
}

export function parseBoolean(value: string): boolean | null {
  const token = value.trim().toLowerCase();
  if (TRUE_TOKENS.has(token)) return true;
  if (FALSE_TOKENS.has(token)) return false;
  return null;
}

/** True for boolean spellings that are not also numbers (so a 0/1 column stays integer). */
export function isWordBoolean(value: string): boolean {
  const token = value.trim();
  return token !== '0' && token !== '1' && parseBoolean(token) !== null;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function isValidDate(year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const days = [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return day <= (days[month - 1] ?? 0);
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** ISO `YYYY-MM-DD` for `YYYY-MM-DD`, `YYYY/MM/DD` and `DD-Mon-YYYY`; null for anything else or impossible dates. */
export function parseDate(value: string): string | null {
  const trimmed = value.trim();
  let year: number, month: number, day: number;
  const iso = ISO_DATE_RE.exec(trimmed);
  if (iso) {
    [year, month, day] = [Number(iso[1]), Number(iso[3]), Number(iso[4])];
  } else {
    const mon = MON_DATE_RE.exec(trimmed);
    if (!mon) return null;
    const name = (mon[2] ?? '').toLowerCase();
    const index = name.length === 3 ? MONTHS.indexOf(name) : MONTH_NAMES.indexOf(name);
    [year, month, day] = [Number(mon[3]), index + 1, Number(mon[1])];
  }
  return isValidDate(year, month, day) ? `${pad(year, 4)}-${pad(month)}-${pad(day)}` : null;
}

function offsetMinutes(zone: string): number {
  if (zone.toUpperCase() === 'Z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0');
  return zone.startsWith('-') ? -minutes : minutes;
}

/**
 * Canonical `YYYY-MM-DD HH:MM:SS[.fffffff]` for ISO date-times (T or space, optional seconds, fraction, zone).
 * A zone is applied and dropped (UTC), because both target types are zone-less timestamps.
 */
export function parseDatetime(value: string): string | null {
  const m = DATETIME_RE.exec(value.trim());
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[3]), Number(m[4])];
  const [hour, minute, second] = [Number(m[5]), Number(m[6]), Number(m[7] ?? '0')];
  if (!isValidDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return null;
  const fraction = m[8] ? `.${m[8].slice(0, 7)}` : '';
  if (!m[9]) return `${pad(year, 4)}-${pad(month)}-${pad(day)} ${pad(hour)}:${pad(minute)}:${pad(second)}${fraction}`;
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute - offsetMinutes(m[9]), second, 0);
  const y = utc.getUTCFullYear();
  if (y < 1 || y > 9999) return null;
  return `${pad(y, 4)}-${pad(utc.getUTCMonth() + 1)}-${pad(utc.getUTCDate())} ${pad(utc.getUTCHours())}:${pad(utc.getUTCMinutes())}:${pad(utc.getUTCSeconds())}${fraction}`;
}

export function classifyCell(value: string): CellClass {
  if (isNullValue(value)) return 'empty';
  const trimmed = value.trim();
  const number = parseNumber(trimmed);
  if (number) return number.hasPoint ? 'decimal' : 'integer';
  if (isWordBoolean(trimmed)) return 'boolean';
  const first = trimmed.charCodeAt(0);
  const startsWithDigit = first >= 48 && first <= 57;
  if (startsWithDigit && parseDate(trimmed)) return 'date';
  if (startsWithDigit && parseDatetime(trimmed)) return 'datetime';
  if (NUMBER_LIKE_RE.test(trimmed) || TIME_RE.test(trimmed)) return 'number-like';
  return 'text';
}

/** Groups classes the way a reader would: any number, any point in time, a flag, or words. */
export function cellGroup(cls: CellClass): 'empty' | 'numeric' | 'temporal' | 'boolean' | 'text' {
  switch (cls) {
    case 'integer':
    case 'decimal':
    case 'number-like':
      return 'numeric';
    case 'date':
    case 'datetime':
      return 'temporal';
    default:
      return cls;
  }
}
