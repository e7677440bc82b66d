// Detects delimiter, quote, line ending, preamble and header of decoded CSV text by scoring candidate dialects
// on how regular the table they produce is (CleverCSV's pattern score × type score), not by counting characters.
import { CsvFormatError } from './errors';
import { countPreambleRecords, looksLikeHeader, modalWidth } from './header';
import { type Delimiter, type Newline, type Quote, isBlankRecord, parseRecords } from './parse';
import { cellGroup, classifyCell } from './values';

export type { Delimiter, Newline, Quote } from './parse';

export interface Dialect {
  delimiter: Delimiter;
  quote: Quote;
  newline: Newline;
  hasHeader: boolean;
  /** Physical lines before the header (or the first data row): titles, comments, blank lines. */
  preambleLines: number;
}

/** In order of preference when candidates score the same. */
export const DELIMITERS: readonly Delimiter[] = [',', ';', '\t', '|'];
const QUOTES: readonly Quote[] = ['"', "'"];
/** PostgreSQL's column limit; SQL Server's is lower (1024) and is that dialect's to enforce. */
export const MAX_COLUMNS = 1600;

// Scoring looks at the top of the sample only: enough rows to see the pattern, bounded work on wide files.
const SCORING_CHARS = 256 * 1024;
const SCORING_RECORDS = 1000;
// CleverCSV's weight for one-field rows: such rows say almost nothing about a delimiter.
const SINGLE_FIELD_WEIGHT = 0.001;

const DIRTY_RE = /[,;|\t]/;

interface BreakCounts {
  crlf: number;
  lf: number;
  cr: number;
  /** CR CR LF, counted as one CRLF too: a CRLF file whose line ends were converted once more. */
  doubleCr: number;
  /** 1-based line of the first LF-only and the first CRLF break. */
  firstLf: number;
  firstCrlf: number;
}

/**
 * Line breaks outside `quote`d sections (every break when `quote` is null), or null when the quotes never close.
 * With a `delimiter`, a quote opens a section only at a field's start (as the parser reads it: `12" ruler` is text);
 * without one, every quote toggles.
 */
function countBreaks(text: string, quote: Quote | null, delimiter?: Delimiter): BreakCounts | null {
  const quoteCode = quote === null ? -1 : quote.charCodeAt(0);
  const delimiterCode = delimiter === undefined ? -1 : delimiter.charCodeAt(0);
  const counts: BreakCounts = { crlf: 0, lf: 0, cr: 0, doubleCr: 0, firstLf: 0, firstCrlf: 0 };
  let inQuotes = false;
  let closedAt = -2;
  let line = 1;
  const end = Math.min(text.length, SCORING_CHARS);
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code === quoteCode) {
      if (inQuotes) {
        inQuotes = false;
        closedAt = i;
        continue;
      }
      const before = i === 0 ? 10 : text.charCodeAt(i - 1);
      if (delimiterCode < 0 || before === delimiterCode || before === 10 || before === 13 || closedAt === i - 1) inQuotes = true;
    } else if (inQuotes) {
      if (code === 10) line++;
    } else if (code === 13) {
      if (text.charCodeAt(i + 1) === 13 && text.charCodeAt(i + 2) === 10) {
        counts.doubleCr++;
        i++;
      }
      if (text.charCodeAt(i + 1) === 10) {
        counts.crlf++;
        counts.firstCrlf ||= line;
        i++;
      } else counts.cr++;
      line++;
    } else if (code === 10) {
      counts.lf++;
      counts.firstLf ||= line;
      line++;
    }
  }
  return inQuotes && end === text.length ? null : counts;
}

/** A share of line breaks of the other kind above this is two files put together, not a stray break in a value. */
const MIXED_BREAKS_SHARE = 0.01;

/**
 * Line endings no single newline setting reads right: CR CR LF throughout, or CRLF and LF mixed (files put together).
 * Either would load an invisible CR into the last column or merge lines into one row, so the file is refused.
 */
function checkLineEndings(text: string, newline: Newline, quote: Quote, delimiter: Delimiter): void {
  const c = countBreaks(text, quote, delimiter);
  if (c === null) return;
  if (c.doubleCr > c.crlf / 2) {
    throw new CsvFormatError('MIXED_LINE_ENDINGS', `The lines of the file end with CR CR LF (a Windows file whose line endings were converted twice): each row would get an invisible CR in its last column. Save it again with ordinary CRLF or LF line endings.`);
  }
  const [odd, total] = newline === '\r\n' ? [c.lf, c.lf + c.crlf] : newline === '\n' ? [c.crlf, c.lf + c.crlf] : [0, 0];
  if (odd > 0 && odd > total * MIXED_BREAKS_SHARE) {
    const line = newline === '\r\n' ? c.firstLf : c.firstCrlf;
    throw new CsvFormatError(
      'MIXED_LINE_ENDINGS',
      `The file mixes line endings: ${c.crlf} lines end with CRLF (Windows) and ${c.lf} with LF only (Unix), first different at line ${line}; parts of it were probably written by different systems. Save it again with one kind of line ending.`,
      { line },
    );
  }
}

/** The line ending of the records; breaks inside "quoted" fields are ignored when the quotes balance. */
export function detectNewline(text: string): Newline {
  const c = countBreaks(text, '"') ?? countBreaks(text, null) ?? { crlf: 0, lf: 0, cr: 0 };
  if (c.crlf >= c.lf && c.crlf >= c.cr && c.crlf > 0) return '\r\n';
  return c.cr > c.lf ? '\r' : '\n';
}

/** How regular the row widths are: few distinct widths, many fields each (CleverCSV's pattern score). */
function patternScore(rows: string[][]): number {
  const widths = new Map<number, number>();
  for (const row of rows) widths.set(row.length, (widths.get(row.length) ?? 0) + 1);
  let sum = 0;
  for (const [width, count] of widths) sum += count * Math.max(SINGLE_FIELD_WEIGHT, (width - 1) / width);
  return sum / widths.size / Math.max(1, rows.length);
}

/** Share of cells that look like clean values: no stray delimiters of another candidate, no leftover quotes. */
function typeScore(rows: string[][]): number {
  let cells = 0;
  let clean = 0;
  for (const row of rows) {
    for (const cell of row) {
      cells++;
      const first = cell.charCodeAt(0);
      const last = cell.charCodeAt(cell.length - 1);
      const strayQuote = first === 34 || first === 39 || last === 34 || last === 39;
      if ((!strayQuote && !DIRTY_RE.test(cell)) || cellGroup(classifyCell(cell)) === 'numeric') clean++;
    }
  }
  return cells === 0 ? 0 : clean / cells;
}

interface Candidate {
  delimiter: Delimiter;
  quote: Quote;
  rows: string[][];
  lines: number[];
  score: number;
}

function scoreCandidates(text: string, newline: Newline, delimiters: readonly Delimiter[]): Candidate | null {
  const truncated = text.length > SCORING_CHARS;
  const scoringText = truncated ? text.slice(0, SCORING_CHARS) : text;
  const quotes = QUOTES.filter((q) => q === '"' || scoringText.includes(q));
  let best: Candidate | null = null;
  for (const delimiter of delimiters.filter((d) => scoringText.includes(d))) {
    for (const quote of quotes) {
      const parsed = parseRecords(scoringText, { delimiter, quote, newline, preview: SCORING_RECORDS });
      // A record cut by the scoring window would look ragged; it is not evidence.
      if (truncated && parsed.rows.length > 1 && parsed.rows.length < SCORING_RECORDS) parsed.rows.pop();
      const rows = parsed.rows.filter((r) => !isBlankRecord(r));
      if (modalWidth(rows) < 2) continue;
      const score = patternScore(rows) * typeScore(rows);
      if (!best || score > best.score + 1e-12) best = { delimiter, quote, rows: parsed.rows, lines: parsed.lines, score };
    }
  }
  return best;
}

/**
 * Single-column files: prefer a delimiter that never occurs, so each line stays one field; among the choices, the
 * one leaving the most one-field rows and the fewest stray quotes.
 */
function singleColumn(text: string, newline: Newline): Candidate {
  const scoringText = text.slice(0, SCORING_CHARS);
  const absent = DELIMITERS.filter((d) => !scoringText.includes(d));
  let best: Candidate | null = null;
  for (const delimiter of absent.length > 0 ? absent.slice(0, 1) : DELIMITERS) {
    for (const quote of QUOTES) {
      const parsed = parseRecords(scoringText, { delimiter, quote, newline, preview: SCORING_RECORDS });
      const rows = parsed.rows.filter((r) => !isBlankRecord(r));
      const single = rows.filter((r) => r.length === 1).length / Math.max(1, rows.length);
      // Unsplit rows decide; stray quotes only choose between quote characters.
      const score = single + typeScore(rows) / 1000;
      if (!best || score > best.score + 1e-12) best = { delimiter, quote, rows: parsed.rows, lines: parsed.lines, score };
    }
  }
  return best ?? { delimiter: ',', quote: '"', rows: [], lines: [], score: 0 };
}

/**
 * A candidate that splits rows into many different widths, where keeping each line whole gives clean values
 * (`1,503,152` in a one-column file), is a delimiter seen in the data, not between fields. Broken multi-column files
 * keep their candidate: their whole lines are not clean values, and RAGGED_ROWS tells the operator.
 */
function isBetterAsOneColumn(candidate: Candidate, text: string, newline: Newline): boolean {
  const rows = candidate.rows.filter((r) => !isBlankRecord(r));
  const width = modalWidth(rows);
  if (rows.filter((r) => r.length === width).length >= 0.9 * rows.length) return false;
  const whole = singleColumn(text, newline).rows.filter((r) => !isBlankRecord(r));
  return whole.filter((r) => r.length === 1).length >= 0.95 * whole.length && typeScore(whole) >= 0.9;
}

// Excel writes `sep=;` as the first line to name the delimiter; it is a hint and a preamble line.
const SEP_HINT_RE = /^sep=([,;|\t])[ \t]*(\r\n|\n|\r)/i;

export function detectDialect(text: string): Dialect {
  if (text.trim() === '') throw new CsvFormatError('EMPTY_FILE', 'The file is empty: it holds no rows, only blank space.');
  if (text.includes('\u0000')) {
    throw new CsvFormatError('BINARY_CONTENT', 'The file contains NUL characters, so it is binary data, not a CSV text file.');
  }
  const hint = SEP_HINT_RE.exec(text);
  const body = hint ? text.slice(hint[0].length) : text;
  const newline = hint ? (hint[2] as Newline) : detectNewline(body);
  const delimiters = hint ? [hint[1] as Delimiter] : DELIMITERS;
  const multi = scoreCandidates(body, newline, delimiters);
  const best = multi && !isBetterAsOneColumn(multi, body, newline) ? multi : singleColumn(body, newline);
  checkLineEndings(body, newline, best.quote, best.delimiter);
  const width = modalWidth(best.rows);
  if (width > MAX_COLUMNS) {
    throw new CsvFormatError(
      'TOO_MANY_COLUMNS',
      `The file has ${width} columns; at most ${MAX_COLUMNS} are supported. Split it into narrower files.`,
    );
  }
  const preamble = countPreambleRecords(best.rows, width);
  const rest = best.rows.slice(preamble).filter((r) => !isBlankRecord(r));
  const [first = [], ...rows] = rest;
  return {
    delimiter: hint ? (hint[1] as Delimiter) : best.delimiter,
    quote: best.quote,
    newline,
    hasHeader: looksLikeHeader(first, rows.filter((r) => r.length === width)),
    preambleLines: (hint ? 1 : 0) + (preamble > 0 ? (best.lines[preamble] ?? 1) - 1 : 0),
  };
}
