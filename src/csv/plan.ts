// Turns the first bytes of a dropped file into a load plan: encoding, dialect, columns with types, table name.
import type { ColumnSpec } from '../db/types';
import { type Dialect, MAX_COLUMNS, detectDialect } from './dialect';
import { CsvFormatError } from './errors';
import { type Encoding, brokenUtf8Bom, decode, detectCompression, detectEncoding, isHtmlPage, isProbablyBinary, mixedEncodingLine } from './encoding';
import { modalWidth } from './header';
import { isBlankRecord, parseRecords } from './parse';
import { deriveTableName, findDuplicateHeaders, normalizeColumnNames } from './table-name';
import { inferColumns } from './types';

/** Data rows of the sample used for type inference. */
export const MAX_SAMPLE_ROWS = 20_000;
/** A longer field is almost certainly a broken quote or a binary blob, and no column type wants it. */
export const MAX_FIELD_CHARS = 1024 * 1024;
/** Share of data rows whose field count may differ from the header's before the file is refused. */
export const RAGGED_TOLERANCE = 0.01;
// A quoted field cut by the end of a partial sample holds a few line breaks; a broken quote swallows everything.
const MAX_LINE_BREAKS_IN_CUT_FIELD = 100;

export interface PlanInput {
  fileName: string;
  sample: Buffer;
  sampleIsWholeFile: boolean;
  /** Size of the whole file in bytes; with it a partial sample yields a row estimate. */
  fileSize?: number;
  /** `rename` (default) makes clashing header names unique; `error` refuses the file with DUPLICATE_HEADERS. */
  duplicateHeaders?: 'rename' | 'error';
}

/** A data row whose field count differs from the header's (1-based row after the header, and file line). */
export interface RaggedRow {
  row: number;
  line: number;
  fields: number;
}

export interface CsvPlan extends Dialect {
  encoding: Encoding;
  /** Header cells as written (trimmed), or column_1… when the file has no header. */
  headers: string[];
  /** Normalised, unique identifiers, one per header. */
  columnNames: string[];
  columns: ColumnSpec[];
  table: string;
  /** Data rows type inference looked at. */
  sampleRows: number;
  /** Exact when the sample is the whole file; estimated from `fileSize` otherwise; null when unknown. */
  rowCountEstimate: number | null;
  /** Records end with one empty field that is not a column (a trailing delimiter); readers drop it. */
  trailingDelimiter: boolean;
  /** Ragged rows tolerated because they are few (at most RAGGED_TOLERANCE); the first 100. */
  raggedRows: RaggedRow[];
}

interface Table {
  header: string[] | null;
  rows: string[][];
  lines: number[];
}

interface DecodedSample {
  encoding: Encoding;
  text: string;
  decodedLength: number;
  /** A UTF-8 byte-order mark followed by bytes that are not UTF-8: where, and what they look like instead. */
  brokenBom: { line: number; looksLike: Encoding } | null;
}

function decodeSample(input: PlanInput): DecodedSample {
  const { sample, fileName } = input;
  if (sample.length === 0) throw new CsvFormatError('EMPTY_FILE', `File ${fileName} is empty (0 bytes).`);
  const compression = detectCompression(sample);
  if (compression) {
    const what = compression === 'gzip' ? 'gzip-compressed' : 'a ZIP archive (or an Excel .xlsx workbook)';
    throw new CsvFormatError('COMPRESSED', `File ${fileName} is ${what}, not plain CSV text. Drop the uncompressed CSV instead.`);
  }
  if (isProbablyBinary(sample)) {
    throw new CsvFormatError('BINARY_CONTENT', `File ${fileName} holds binary data (NUL or control bytes), not CSV text. Export it as CSV and drop it again.`);
  }
  const encoding = detectEncoding(sample);
  if (encoding === 'windows-1252' || encoding === 'latin1') {
    const line = mixedEncodingLine(sample);
    if (line !== null) {
      throw new CsvFormatError(
        'MIXED_ENCODING',
        `File ${fileName} mixes encodings: it holds UTF-8 characters, but line ${line} has bytes that are not UTF-8 (a part saved as Windows-1252 or Latin-1?). Save the whole file again in one encoding, preferably UTF-8.`,
        { line },
      );
    }
  }
  let text = decode(sample, encoding);
  if (isHtmlPage(text)) {
    throw new CsvFormatError('HTML_PAGE', `File ${fileName} is an HTML page (a web page saved as .csv, such as the error page of a download that failed), not CSV data. Download the file again, check that it opens as a table, and drop it again.`);
  }
  const decodedLength = text.length;
  if (!input.sampleIsWholeFile) {
    // The sample ends mid-line; only whole lines are evidence.
    const cut = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'));
    if (cut < 0) {
      throw new CsvFormatError('FIELD_TOO_LARGE', `The first line of ${fileName} does not end within the first ${sample.length} bytes; it is not a CSV table with reasonably sized fields.`);
    }
    text = text.slice(0, cut + 1);
  }
  return { encoding, text, decodedLength, brokenBom: encoding === 'utf-8-bom' ? brokenUtf8Bom(sample) : null };
}

/**
 * A UTF-8 byte-order mark is a promise that the file is UTF-8; bytes that break it are refused at their data row
 * rather than read in a guessed encoding or turned into replacement characters.
 */
function refuseBrokenBom(broken: { line: number; looksLike: Encoding }, table: Table, fileName: string): never {
  let row = 0;
  while (row < table.lines.length && (table.lines[row] ?? 0) <= broken.line) row++;
  const where = row > 0 ? `row ${row} (line ${broken.line})` : `line ${broken.line}`;
  const guess = broken.looksLike === 'windows-1252' || broken.looksLike === 'latin1' ? ` (they look like ${broken.looksLike === 'latin1' ? 'Latin-1' : 'Windows-1252'})` : '';
  throw new CsvFormatError(
    'BOM_MISMATCH',
    `File ${fileName} starts with a UTF-8 byte-order mark, but ${where} has bytes that are not UTF-8${guess}. The mark promises UTF-8, so the file is not read in a guessed encoding. Save it again as UTF-8 (in Excel: CSV UTF-8), or in one single-byte encoding without the mark.`,
    row > 0 ? { row, line: broken.line } : { line: broken.line },
  );
}

function checkFieldSizes(rows: string[][], lines: number[]): void {
  rows.forEach((row, r) => {
    const c = row.findIndex((cell) => cell.length > MAX_FIELD_CHARS);
    if (c >= 0) {
      throw new CsvFormatError('FIELD_TOO_LARGE', `Field ${c + 1} on line ${lines[r]} is longer than ${MAX_FIELD_CHARS} characters; a quote is probably not closed, or the field holds a file rather than a value.`, { line: lines[r] });
    }
  });
}

function readTable(text: string, dialect: Dialect, input: PlanInput): Table {
  const parsed = parseRecords(text, dialect);
  const { rows, lines } = parsed;
  const at = parsed.unterminatedAt;
  if (at !== null) {
    const cutOff = !input.sampleIsWholeFile && at === rows.length - 1 && countBreaks(rows[at] ?? []) <= MAX_LINE_BREAKS_IN_CUT_FIELD;
    if (!cutOff) {
      throw new CsvFormatError('UNTERMINATED_QUOTE', `A quoted field that starts on line ${lines[at]} of ${input.fileName} is never closed: add the missing closing ${dialect.quote} on that line.`, { line: lines[at] });
    }
    rows.pop();
  }
  checkFieldSizes(rows, lines);
  const keep: number[] = [];
  for (let r = 0; r < rows.length; r++) if ((lines[r] ?? 0) > dialect.preambleLines && !isBlankRecord(rows[r] ?? [])) keep.push(r);
  const body = keep.map((r) => rows[r] ?? []);
  const bodyLines = keep.map((r) => lines[r] ?? 0);
  if (body.length === 0) throw new CsvFormatError('EMPTY_FILE', `File ${input.fileName} has no rows after its title lines.`);
  if (!dialect.hasHeader) return { header: null, rows: body, lines: bodyLines };
  return { header: (body[0] ?? []).map((h) => h.trim()), rows: body.slice(1), lines: bodyLines.slice(1) };
}

function countBreaks(row: string[]): number {
  return row.reduce((n, cell) => n + (cell.match(/\r\n|\r|\n/g)?.length ?? 0), 0);
}

/** Stand-in header for a headerless file, as wide as most rows; its empty last cell lets a trailing delimiter go. */
function headerlessPlaceholder(rows: string[][]): string[] {
  const placeholder = new Array<string>(modalWidth(rows)).fill('x');
  placeholder[placeholder.length - 1] = '';
  return placeholder;
}

/** Detects a trailing delimiter (an always-empty last field without a name) and removes it from header and rows. */
function dropTrailingField(header: string[], rows: string[][]): { header: string[]; rows: string[][]; trailing: boolean } {
  const endsEmpty = (row: string[], width: number): boolean => row.length === width && (row[width - 1] ?? '').trim() === '';
  const width = header.length;
  const headerPadded = width >= 2 && header[width - 1] === '' && rows.every((r) => r.length !== width || endsEmpty(r, width));
  const rowsPadded = rows.length > 0 && rows.filter((r) => endsEmpty(r, width + 1)).length > rows.length / 2;
  if (headerPadded) return { header: header.slice(0, -1), rows: rows.map((r) => (r.length === width ? r.slice(0, -1) : r)), trailing: true };
  if (rowsPadded) return { header, rows: rows.map((r) => (endsEmpty(r, width + 1) ? r.slice(0, -1) : r)), trailing: true };
  return { header, rows, trailing: false };
}

function findRagged(rows: string[][], lines: number[], width: number, fileName: string): RaggedRow[] {
  const ragged: RaggedRow[] = [];
  rows.forEach((row, i) => {
    if (row.length !== width) ragged.push({ row: i + 1, line: lines[i] ?? 0, fields: row.length });
  });
  if (ragged.length > Math.floor(rows.length * RAGGED_TOLERANCE)) {
    const first = ragged[0] ?? { row: 0, line: 0, fields: 0 };
    throw new CsvFormatError(
      'RAGGED_ROWS',
      `Row ${first.row} (line ${first.line}) of ${fileName} has ${first.fields} fields but the header has ${width}; ${ragged.length} of ${rows.length} rows differ. Check delimiters and quotes on those lines.`,
      { row: first.row, line: first.line },
    );
  }
  return ragged.slice(0, 100);
}

/**
 * A data row that repeats the header (same names, any case) means files were put together with their headers: that
 * row would load as data, and its names would turn typed columns into text.
 */
function findRepeatedHeader(header: string[], rows: string[][], lines: number[], fileName: string): void {
  const names = header.map((h) => h.trim().toLowerCase());
  if (names.every((n) => n === '')) return;
  const at = rows.findIndex((row) => row.length === names.length && row.every((cell, i) => cell.trim().toLowerCase() === names[i]));
  if (at < 0) return;
  const line = lines[at] ?? 0;
  throw new CsvFormatError(
    'REPEATED_HEADER',
    `Row ${at + 1} (line ${line}) of ${fileName} repeats the header: files were probably put together with their headers. Remove the repeated header lines (or load the parts as separate files).`,
    { row: at + 1, line },
  );
}

function nameColumns(header: string[] | null, width: number, input: PlanInput): { headers: string[]; names: string[] } {
  if (width > MAX_COLUMNS) {
    throw new CsvFormatError('TOO_MANY_COLUMNS', `File ${input.fileName} has ${width} columns; at most ${MAX_COLUMNS} are supported. Split it into narrower files.`);
  }
  const headers = header ?? Array.from({ length: width }, (_, i) => `column_${i + 1}`);
  const duplicates = findDuplicateHeaders(headers);
  if (duplicates.length > 0 && input.duplicateHeaders === 'error') {
    const shown = duplicates.map((g) => g.map((h) => `"${h}"`).join(' and ')).join('; ');
    throw new CsvFormatError('DUPLICATE_HEADERS', `File ${input.fileName} names columns twice: ${shown}. Rename them so each column has its own name.`);
  }
  return { headers, names: normalizeColumnNames(headers) };
}

/** Rows in the file: counted when the sample is all of it, else scaled by the bytes the complete lines used. */
function estimateRows(dataRows: number, usedShare: number, input: PlanInput): number | null {
  if (input.sampleIsWholeFile) return dataRows;
  if (input.fileSize === undefined) return null;
  const bytesUsed = input.sample.length * usedShare;
  return Math.round((dataRows * input.fileSize) / Math.max(1, bytesUsed));
}

export function buildPlan(input: PlanInput): CsvPlan {
  return planSample(input).plan;
}

/** The plan and the sample's data rows it was inferred from (so a caller can check them without parsing again). */
export function planSample(input: PlanInput): { plan: CsvPlan; dataRows: string[][] } {
  const { encoding, text, decodedLength, brokenBom } = decodeSample(input);
  const dialect = detectDialect(text);
  const table = readTable(text, dialect, input);
  if (brokenBom) refuseBrokenBom(brokenBom, table, input.fileName);
  const trimmed = dropTrailingField(table.header ?? headerlessPlaceholder(table.rows), table.rows);
  const width = trimmed.header.length;
  const { headers, names } = nameColumns(table.header ? trimmed.header : null, width, input);
  if (table.header && trimmed.rows.length === 0) {
    throw new CsvFormatError('HEADER_ONLY', `File ${input.fileName} has a header (${headers.slice(0, 5).join(', ')}${width > 5 ? ', …' : ''}) but no data rows.`);
  }
  if (table.header) findRepeatedHeader(trimmed.header, trimmed.rows, table.lines, input.fileName);
  const raggedRows = findRagged(trimmed.rows, table.lines, width, input.fileName);
  const sample = trimmed.rows.slice(0, MAX_SAMPLE_ROWS);
  const plan: CsvPlan = {
    encoding,
    ...dialect,
    headers,
    columnNames: names,
    columns: inferColumns(names, sample),
    table: deriveTableName(input.fileName),
    sampleRows: sample.length,
    rowCountEstimate: estimateRows(trimmed.rows.length, text.length / Math.max(1, decodedLength), input),
    trailingDelimiter: trimmed.trailing,
    raggedRows,
  };
  return { plan, dataRows: trimmed.rows };
}
