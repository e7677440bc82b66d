// Splits decoded text into records with papaparse for a given dialect, keeping the line each record starts on.
import Papa from 'papaparse';

export type Delimiter = ',' | ';' | '|' | '\t';
export type Quote = '"' | "'";
export type Newline = '\r\n' | '\n' | '\r';

export interface ParseOptions {
  delimiter: Delimiter;
  quote: Quote;
  newline: Newline;
  /** Stop after this many records (dialect scoring needs only the top of the sample). */
  preview?: number;
}

export interface ParsedRecords {
  rows: string[][];
  /** 1-based line on which each record starts, counting line breaks inside quoted fields. */
  lines: number[];
  /** Index of the first record whose quoted field never closes, or null. */
  unterminatedAt: number | null;
}

const LINE_BREAK_RE = /\r\n|\r|\n/g;

function embeddedLineBreaks(row: string[]): number {
  let count = 0;
  for (const cell of row) {
    if (cell.indexOf('\n') === -1 && cell.indexOf('\r') === -1) continue;
    count += cell.match(LINE_BREAK_RE)?.length ?? 0;
  }
  return count;
}

/** A record that is an empty line (or only blanks in a one-field record); it is neither data nor ragged. */
export function isBlankRecord(row: string[]): boolean {
  return row.length === 1 && (row[0] ?? '').trim() === '';
}

export function parseRecords(text: string, options: ParseOptions): ParsedRecords {
  const result = Papa.parse<string[]>(text, {
    delimiter: options.delimiter,
    quoteChar: options.quote,
    escapeChar: options.quote,
    newline: options.newline,
    preview: options.preview ?? 0,
    header: false,
    dynamicTyping: false,
    skipEmptyLines: false,
  });
  const rows = result.data;
  // papaparse reports the empty string after a final newline as one more record; it is not one.
  const last = rows[rows.length - 1];
  if (last && last.length === 1 && last[0] === '' && !result.meta.truncated) rows.pop();
  const lines: number[] = new Array<number>(rows.length);
  let line = 1;
  for (let i = 0; i < rows.length; i++) {
    lines[i] = line;
    line += 1 + embeddedLineBreaks(rows[i] ?? []);
  }
  const missing = result.errors.find((e) => e.code === 'MissingQuotes');
  return { rows, lines, unterminatedAt: missing ? (missing.row ?? rows.length - 1) : null };
}
