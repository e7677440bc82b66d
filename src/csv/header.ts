// Finds where the table starts (title or comment lines before it) and whether its first row names the columns.
import { isBlankRecord } from './parse';
import { cellGroup, classifyCell } from './values';

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

/** Votes of one column: + when the first cell stands apart from the values below it, − when it looks like them. */
function columnVote(head: string, values: string[]): number {
  const h = head.trim();
  if (h === '') return 0;
  const headGroup = cellGroup(classifyCell(h));
  // Names like `n`, `y` or `active` spell booleans; over a column of another kind they are words.
  const headIsWord = headGroup === 'text' || headGroup === 'boolean';
  const body = dominantGroup(values);
  if (body === 'numeric' || body === 'temporal' || body === 'boolean') {
    if (headGroup === body) return -1;
    return headIsWord ? 1 : -0.5;
  }
  if (!headIsWord) return body === 'empty' ? 0 : -1;
  if (values.includes(head)) return -1;
  const lengths = new Set(values.filter((v) => v !== '').map((v) => v.length));
  // Fixed-width codes (LHR, EUR, DE) under a header of another length are a strong header sign.
  if (lengths.size === 1 && values.length >= 3 && !lengths.has(head.length)) return 1;
  return 0;
}

/**
 * Whether `first` is a header over `body` (rows of the same width). The first row must be mostly non-empty words;
 * then columns vote. A tie keeps the header, because drop-folder files nearly always have one and an all-text
 * table without one is undecidable anyway.
 */
export function looksLikeHeader(first: string[], body: string[][]): boolean {
  const cells = first.map((c) => c.trim());
  const filled = cells.filter((c) => c !== '');
  if (filled.length === 0 || filled.length * 2 < cells.length) return false;
  const words = filled.filter((c) => ['text', 'boolean'].includes(cellGroup(classifyCell(c))));
  if (body.length === 0) return words.length === filled.length;
  const sample = body.slice(0, HEADER_BODY_ROWS);
  let score = 0;
  for (let c = 0; c < cells.length; c++) score += columnVote(first[c] ?? '', sample.map((row) => row[c] ?? ''));
  const distinct = new Set(filled.map((c) => c.toLowerCase())).size === filled.length;
  if (!distinct) score -= 0.5;
  return score > 0 || (score === 0 && words.length === filled.length && distinct);
}
