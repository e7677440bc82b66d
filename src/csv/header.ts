// Finds where the table starts (title or comment lines before it) and whether its first row names the columns.
import { isBlankRecord } from './parse';
import { cellGroup, classifyCell, parseDate } from './values';

/** Title and comment lines beyond this many are not a preamble but a different table shape. */
export const MAX_PREAMBLE_RECORDS = 20;
/** Rows of the body that header detection looks at. */
const HEADER_BODY_ROWS = 1000;

type Group = ReturnType<typeof cellGroup>;

/** The field count most records share: the width of the table body (leading one-field title lines aside). */
export function modalWidth(rows: string[][], limit = 5000): number {
  // In a short file the title lines can outnumber the data rows; they must not set the width.
  let start = 0;
  while (start < Math.min(rows.length, MAX_PREAMBLE_RECORDS) && (rows[start]?.length ?? 0) <= 1) start++;
  if (start === rows.length) start = 0;
  const counts = new Map<number, number>();
  for (const row of rows.slice(start, start + limit)) {
    if (!isBlankRecord(row)) counts.set(row.length, (counts.get(row.length) ?? 0) + 1);
  }
  let best = 1;
  let bestCount = 0;
  for (const [width, count] of counts) {
    if (count > bestCount || (count === bestCount && width > best)) [best, bestCount] = [width, count];
  }
  return best;
}

/** A `# comment` line, but not a header whose first column is called `#` or `#id`. */
function isCommentRecord(row: string[]): boolean {
  return /^#(\s|!|$)/.test(row[0] ?? '') && !(row.length > 1 && (row[0] ?? '').trim() === '#');
}

/** Spreadsheet exports pad a title line with delimiters: only the first cell has text. */
function isPaddedTitle(row: string[], width: number): boolean {
  return width >= 3 && row.length >= 2 && (row[0] ?? '').trim() !== '' && row.slice(1).every((c) => c.trim() === '');
}

/** Leading records to skip: blank, comment, or title lines (at most half as wide as the body) before the header. */
export function countPreambleRecords(rows: string[][], width: number): number {
  if (width < 2) return 0;
  let skip = 0;
  while (skip < Math.min(rows.length - 1, MAX_PREAMBLE_RECORDS)) {
    const row = rows[skip] ?? [];
    // Titles are much narrower than the body; a header only a column or two short is a header with a problem.
    const isNarrow = row.length <= Math.max(1, Math.floor(width / 2));
    const isPreamble = isBlankRecord(row) || isCommentRecord(row) || isNarrow || isPaddedTitle(row, width);
    if (!isPreamble) break;
    skip++;
  }
  // A "preamble" that is all there is, or that leaves no row as wide as the body, was misread: keep everything.
  const rest = rows.slice(skip);
  return rest.some((r) => r.length === width) ? skip : 0;
}

/** The group most non-empty values of a column share (≥ 90 %), or `mixed`. */
function dominantGroup(values: string[]): Group | 'mixed' {
  const counts = new Map<Group, number>();
  let total = 0;
  for (const v of values) {
    const group = cellGroup(classifyCell(v));
    if (group === 'empty') continue;
    total++;
    counts.set(group, (counts.get(group) ?? 0) + 1);
  }
  if (total === 0) return 'empty';
  for (const [group, count] of counts) if (count / total >= 0.9) return group;
  return 'mixed';
}

/** Characters by class (upper, lower, digit), runs collapsed: `LHR` → `A`, `Köln Bay` → `Aa Aa`, `00123` → `9`. */
function shapeOf(cell: string): string {
  return cell
    .replace(/\p{Lu}/gu, 'A')
    .replace(/\p{Ll}/gu, 'a')
    .replace(/\p{Nd}/gu, '9')
    .replace(/(.)\1+/gu, '$1');
}

/** Digits before the point: the width a number is written with. */
function intWidth(cell: string): number {
  return cell.trim().replace(/^[+-]/, '').split('.')[0]?.length ?? 0;
}

/**
 * A number over a column of numbers stands apart when it differs from all of them in kind (a whole number over
 * values that all have decimals) or in width (`2019` over values all narrower, or all wider).
 */
function numberStandsApart(head: string, values: string[]): boolean {
  const filled = values.filter((v) => v.trim() !== '');
  if (filled.length < 3) return false;
  const headClass = classifyCell(head);
  const classes = new Set(filled.map((v) => classifyCell(v)));
  const plain = (c: string): boolean => c === 'integer' || c === 'decimal';
  // Widths are compared between plain numbers only (not `1,234`, `12%` or `1e5`).
  if (!plain(headClass) || ![...classes].every(plain)) return false;
  if (!classes.has(headClass) && classes.size === 1) return true;
  const widths = filled.map(intWidth);
  const width = intWidth(head);
  if (width >= Math.min(...widths) && width <= Math.max(...widths)) return false;
  // In a column sorted by value the first row is the smallest (or largest) and may be the only one a digit shorter.
  return !continuesSortedColumn(Number(head), filled.map(Number));
}

/** Whether `head` fits at the start of sorted `values`: on the sorted side, no further from the first than any step. */
function continuesSortedColumn(head: number, values: number[]): boolean {
  const up = values.every((v, i) => i === 0 || v >= values[i - 1]!);
  const down = values.every((v, i) => i === 0 || v <= values[i - 1]!);
  const first = values[0]!;
  if (!((up && head <= first) || (down && head >= first))) return false;
  const widestStep = Math.max(...values.map((v, i) => (i === 0 ? 0 : Math.abs(v - values[i - 1]!))));
  return Math.abs(first - head) <= widestStep;
}

/** Votes of one column: + when the first cell stands apart from the values below it, − when it looks like them. */
export function columnVote(head: string, values: string[]): number {
  const h = head.trim();
  if (h === '') return 0;
  const headGroup = cellGroup(classifyCell(h));
  // Names like `n`, `y` or `active` spell booleans; over a column of another kind they are words.
  const headIsWord = headGroup === 'text' || headGroup === 'boolean';
  const body = dominantGroup(values);
  if (body === 'numeric' || body === 'temporal' || body === 'boolean') {
    if (headGroup === body) return headGroup === 'numeric' && numberStandsApart(h, values) ? 1 : -1;
    // 0 and 1 spell booleans; otherwise a cell of another kind than the column (a date over figures) names it.
    return headIsWord || body !== 'boolean' ? 1 : -0.5;
  }
  if (!headIsWord) return body === 'empty' ? 0 : -1;
  if (values.includes(head)) return -1;
  const filled = values.filter((v) => v !== '');
  // Fixed-width codes (LHR, EUR, DE), at least three different ones (two words of one length can be chance): a header
  // of another length stands apart, one of the same length and shape looks like one more code (weakly: `ccy` over
  // `usd`, `eur` is a header too).
  const lengths = new Set(new Set(filled).size >= 3 ? filled.map((v) => v.length) : []);
  if (lengths.size === 1 && filled.length >= 3 && !lengths.has(head.length)) return 1;
  if (filled.length < 3) return 0;
  const shape = shapeOf(h);
  const sameShape = filled.filter((v) => shapeOf(v) === shape).length;
  if (sameShape === filled.length && lengths.size === 1) return -0.5;
  // Written unlike every value beneath (`country` over `France`, `Spain`): a weak header sign.
  return sameShape === 0 ? 0.5 : 0;
}

/** The number a cell stands for as a point in a series: an integer, a month (`2024-03`, a month-end) or a day. */
function seriesKey(cell: string): { unit: 'number' | 'month' | 'day'; key: number } | null {
  const t = cell.trim();
  if (/^\d{1,9}$/.test(t)) return { unit: 'number', key: Number(t) };
  const month = /^(\d{4})[-/](\d{2})$/.exec(t);
  if (month) return { unit: 'month', key: Number(month[1]) * 12 + Number(month[2]) };
  const iso = parseDate(t);
  if (!iso) return null;
  const [y, m, d] = iso.split('-').map(Number) as [number, number, number];
  const monthEnd = new Date(Date.UTC(y, m, 0)).getUTCDate() === d;
  return monthEnd ? { unit: 'month', key: y * 12 + m } : { unit: 'day', key: Date.UTC(y, m - 1, d) / 86_400_000 };
}

/** Whether `cells` (3 or more) step evenly through one kind of series: 2019,2020,2021 or month-ends or 4000,4100,4200. */
export function isSeries(cells: string[]): boolean {
  if (cells.length < 3) return false;
  const keys = cells.map(seriesKey);
  const unit = keys[0]?.unit;
  if (keys.some((k) => k === null || k.unit !== unit)) return false;
  const step = keys[1]!.key - keys[0]!.key;
  return step !== 0 && keys.every((k, i) => i === 0 || k!.key - keys[i - 1]!.key === step);
}

/**
 * Columns whose first cells form a series (years, month-ends, numbered codes) that the rows below do not repeat in
 * the same columns: a row of consecutive numbers is how a header names periods, and almost never a data row.
 */
export function seriesColumns(first: string[], body: string[][]): number[] {
  const columns = first.map((c, i) => (seriesKey(c) ? i : -1)).filter((i) => i >= 0);
  if (!isSeries(columns.map((i) => first[i] ?? ''))) return [];
  const repeated = body.filter((row) => isSeries(columns.map((i) => row[i] ?? ''))).length;
  return repeated <= body.length * 0.1 ? columns : [];
}

/**
 * Whether `first` is a header over `body` (rows of the same width). The first row must be mostly non-empty; then
 * columns vote: a cell that stands apart from the values beneath it (a word over figures, a date over figures, a
 * number of another kind or width, a member of a series the rows do not repeat) says header, one like them says
 * data. Header cells are distinct. A tie keeps the header when the first row is all words, because drop-folder
 * files nearly always have one and an all-text table without one is undecidable anyway.
 */
export function looksLikeHeader(first: string[], body: string[][]): boolean {
  const cells = first.map((c) => c.trim());
  const filled = cells.filter((c) => c !== '');
  if (filled.length === 0 || filled.length * 2 < cells.length) return false;
  const words = filled.filter((c) => ['text', 'boolean'].includes(cellGroup(classifyCell(c))));
  const distinct = new Set(filled.map((c) => c.toLowerCase())).size === filled.length;
  const sample = body.slice(0, HEADER_BODY_ROWS);
  const series = new Set(distinct ? seriesColumns(cells, sample) : []);
  if (body.length === 0) return words.length === filled.length || series.size > 0;
  let score = 0;
  for (let c = 0; c < cells.length; c++) score += series.has(c) ? 1 : columnVote(first[c] ?? '', sample.map((row) => row[c] ?? ''));
  if (!distinct) score -= 0.5;
  return score > 0 || (score === 0 && words.length === filled.length && distinct);
}
