// Finds where CSV records end in streamed text (quote-aware), so whole records can be handed to COPY unparsed.
// It does not split fields: PostgreSQL's COPY parser does that. It only needs quote parity, which RFC 4180
// keeps even across doubled quotes ("" toggles twice). One scanner serves decoded text (strings) and raw UTF-8
// bytes (Buffers): quote and line-break characters are ASCII, and an ASCII byte never occurs inside a UTF-8
// multi-byte sequence, so the bytes can be cut without decoding them.
//
// A quote opens a quoted field only at the start of a field, as papaparse, Excel and the planner read it; one
// inside an unquoted field (`12" ruler`) is a literal character. PostgreSQL's COPY would open a quoted section
// there instead (and silently merge lines or drop the quotes), so such "stray" quotes are counted and reported
// with the records that hold them, for the loader to send those records another way.

export interface Scanned<T> {
  /** Complete records (with their line endings), ready to send. */
  text: T;
  /** Records in `text`, blank lines included. */
  records: number;
  /** Records in `text` that are empty lines. */
  blankRecords: number;
  /** Skipped leading records consumed by this call (they count for byte offsets). */
  skipped: T;
  /** Quote characters inside unquoted fields of the records in `text` (literal here, but not to COPY). */
  strayQuotes: number;
}

/** What the scanner needs of its unit of text. */
interface TextOps<T> {
  readonly empty: T;
  needle(char: string): string | number;
  find(s: T, needle: string | number, from: number): number;
  at(s: T, i: number): number;
  cut(s: T, from: number, to?: number): T;
  join(a: T, b: T): T;
  length(s: T): number;
  fromAscii(s: string): T;
}

const stringOps: TextOps<string> = {
  empty: '',
  needle: (c) => c,
  find: (s, n, from) => s.indexOf(n as string, from),
  at: (s, i) => s.charCodeAt(i),
  cut: (s, a, b) => s.slice(a, b),
  join: (a, b) => a + b,
  length: (s) => s.length,
  fromAscii: (s) => s,
};

const EMPTY = Buffer.alloc(0);
const bufferOps: TextOps<Buffer> = {
  empty: EMPTY,
  needle: (c) => c.charCodeAt(0),
  find: (s, n, from) => s.indexOf(n as number, from),
  at: (s, i) => s[i]!,
  cut: (s, a, b) => s.subarray(a, b),
  // The carry is the start of one record: usually short, so copying it onto the next chunk is cheap.
  join: (a, b) => (a.length === 0 ? b : Buffer.concat([a, b])),
  length: (s) => s.length,
  fromAscii: (s) => Buffer.from(s, 'latin1'),
};

class BoundaryScanner<T> {
  private carry: T;
  private scanPos = 0;
  private inQuotes = false;
  private toSkip: number;
  /** Where the last quoted field closed (relative to the carry), so a quote right after it is an escaped one. */
  private closedAt = -2;
  /** Stray quotes in the carry (the record not yet complete). */
  private pendingStrays = 0;
  private readonly terminator: string;
  private readonly quoteNeedle: string | number;
  private readonly termNeedle: string | number;
  private readonly delimiterCode: number;

  constructor(private readonly ops: TextOps<T>, quote: string, delimiter: string, newline: '\r\n' | '\n' | '\r', skipRecords: number) {
    if (quote.length !== 1 || quote.charCodeAt(0) > 127) throw new Error(`the quote character must be one ASCII character, not ${JSON.stringify(quote)}`);
    if (delimiter.length !== 1 || delimiter.charCodeAt(0) > 127) throw new Error(`the delimiter must be one ASCII character, not ${JSON.stringify(delimiter)}`);
    this.delimiterCode = delimiter.charCodeAt(0);
    // For CRLF files the record ends at '\n'; the '\r' before it stays with the record.
    this.terminator = newline === '\r' ? '\r' : '\n';
    this.carry = ops.empty;
    this.quoteNeedle = ops.needle(quote);
    this.termNeedle = ops.needle(this.terminator);
    this.toSkip = skipRecords;
  }

  /** Adds text; returns the complete records found so far (minus skipped leading records). */
  push(chunk: T): Scanned<T> {
    const { ops, quoteNeedle, termNeedle } = this;
    const s = ops.join(this.carry, chunk);
    const len = ops.length(s);
    let i = this.scanPos;
    let inQ = this.inQuotes;
    let emitFrom = 0;
    let lastEnd = 0;
    let lineStart = 0;
    let records = 0;
    let blank = 0;
    let closedAt = this.closedAt;
    let strays = 0;
    let pendingStrays = this.pendingStrays;
    // The next line break and quote found so far: a search is repeated only once the scan has passed its hit.
    let n = -2;
    let q = -2;
    for (;;) {
      if (inQ) {
        if (q < i && q !== -1) q = ops.find(s, quoteNeedle, i);
        if (q < 0) {
          i = len;
          break;
        }
        inQ = false;
        closedAt = q;
        i = q + 1;
        continue;
      }
      if (n < i && n !== -1) n = ops.find(s, termNeedle, i);
      if (q < i && q !== -1) q = ops.find(s, quoteNeedle, i);
      if (n >= 0 && (q < 0 || n < q)) {
        const end = n + 1;
        if (this.toSkip > 0) {
          this.toSkip--;
          emitFrom = end;
        } else {
          records++;
          strays += pendingStrays;
          const width = n - lineStart;
          if (width === 0 || (width === 1 && ops.at(s, lineStart) === 13)) blank++;
        }
        pendingStrays = 0;
        lastEnd = end;
        lineStart = end;
        i = end;
        continue;
      }
      if (q >= 0) {
        // At a field's start, or right after a closing quote ("" inside a quoted field), a quote opens one.
        if (q === lineStart || ops.at(s, q - 1) === this.delimiterCode || q - 1 === closedAt) inQ = true;
        else pendingStrays++;
        i = q + 1;
        continue;
      }
      i = len;
      break;
    }
    const text = lastEnd > emitFrom ? ops.cut(s, emitFrom, lastEnd) : ops.empty;
    const skipped = emitFrom > 0 ? ops.cut(s, 0, emitFrom) : ops.empty;
    this.carry = lastEnd < len ? ops.cut(s, lastEnd) : ops.empty;
    this.scanPos = i - lastEnd;
    this.inQuotes = inQ;
    this.closedAt = closedAt - lastEnd;
    this.pendingStrays = pendingStrays;
    return { text, records, blankRecords: blank, skipped, strayQuotes: strays };
  }

  /** At end of input: the last record if the file does not end with a newline. */
  finish(): Scanned<T> & { unterminatedQuote: boolean } {
    const { ops } = this;
    const rest = this.carry;
    const unterminatedQuote = this.inQuotes;
    const strayQuotes = this.pendingStrays;
    this.carry = ops.empty;
    this.scanPos = 0;
    this.closedAt = -2;
    this.pendingStrays = 0;
    let onlyBreaks = true;
    for (let i = 0; i < ops.length(rest) && onlyBreaks; i++) onlyBreaks = ops.at(rest, i) === 10 || ops.at(rest, i) === 13;
    if (onlyBreaks) return { text: ops.empty, records: 0, blankRecords: 0, skipped: rest, unterminatedQuote, strayQuotes: 0 };
    if (this.toSkip > 0) {
      this.toSkip--;
      return { text: ops.empty, records: 0, blankRecords: 0, skipped: rest, unterminatedQuote, strayQuotes: 0 };
    }
    return { text: ops.join(rest, ops.fromAscii(this.terminator)), records: 1, blankRecords: 0, skipped: ops.empty, unterminatedQuote, strayQuotes };
  }

  /** Leading records (preamble, header) still to skip. */
  get recordsToSkip(): number {
    return this.toSkip;
  }

  /** Characters (or bytes) held back because their record is not complete yet. */
  get pendingLength(): number {
    return this.ops.length(this.carry);
  }
}

/** Record boundaries in decoded text. */
export class RecordBoundaryScanner extends BoundaryScanner<string> {
  constructor(quote: string, delimiter: string, newline: '\r\n' | '\n' | '\r', skipRecords = 0) {
    super(stringOps, quote, delimiter, newline, skipRecords);
  }
}

/** Record boundaries in raw bytes of an ASCII-compatible encoding (UTF-8, Windows-1252, Latin-1). */
export class ByteRecordBoundaryScanner extends BoundaryScanner<Buffer> {
  constructor(quote: string, delimiter: string, newline: '\r\n' | '\n' | '\r', skipRecords = 0) {
    super(bufferOps, quote, delimiter, newline, skipRecords);
  }
}

export type ScannedText = Scanned<string>;
