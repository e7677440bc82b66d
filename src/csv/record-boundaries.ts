// Finds where CSV records end in streamed text (quote-aware), so whole records can be handed to COPY unparsed.
// It does not split fields: PostgreSQL's COPY parser does that. It only needs quote parity, which RFC 4180
// keeps even across doubled quotes ("" toggles twice).

export interface ScannedText {
  /** Complete records (with their line endings), ready to send. */
  text: string;
  /** Records in `text`, blank lines included. */
  records: number;
  /** Records in `text` that are empty lines. */
  blankRecords: number;
  /** Characters of skipped leading records consumed by this call (they count for byte offsets). */
  skippedChars: string;
}

export class RecordBoundaryScanner {
  private carry = '';
  private scanPos = 0;
  private inQuotes = false;
  private toSkip: number;
  private readonly terminator: string;

  constructor(private readonly quote: string, newline: '\r\n' | '\n' | '\r', skipRecords = 0) {
    // For CRLF files the record ends at '\n'; the '\r' before it stays with the record.
    this.terminator = newline === '\r' ? '\r' : '\n';
    this.toSkip = skipRecords;
  }

  /** Adds text; returns the complete records found so far (minus skipped leading records). */
  push(chunk: string): ScannedText {
    const s = this.carry + chunk;
    let i = this.scanPos;
    let inQ = this.inQuotes;
    let emitFrom = 0;
    let lastEnd = 0;
    let lineStart = 0;
    let records = 0;
    let blank = 0;
    const { quote, terminator } = this;
    for (;;) {
      if (inQ) {
        const j = s.indexOf(quote, i);
        if (j < 0) {
          i = s.length;
          break;
        }
        inQ = false;
        i = j + 1;
        continue;
      }
      const n = s.indexOf(terminator, i);
      const q = s.indexOf(quote, i);
      if (n >= 0 && (q < 0 || n < q)) {
        const end = n + 1;
        if (this.toSkip > 0) {
          this.toSkip--;
          emitFrom = end;
        } else {
          records++;
          const len = n - lineStart;
          if (len === 0 || (len === 1 && s.charCodeAt(lineStart) === 13)) blank++;
        }
        lastEnd = end;
        lineStart = end;
        i = end;
        continue;
      }
      if (q >= 0) {
        inQ = true;
        i = q + 1;
        continue;
      }
      i = s.length;
      break;
    }
    const text = lastEnd > emitFrom ? s.slice(emitFrom, lastEnd) : '';
    const skippedChars = emitFrom > 0 ? s.slice(0, emitFrom) : '';
    this.carry = s.slice(lastEnd);
    this.scanPos = i - lastEnd;
    this.inQuotes = inQ;
    return { text, records, blankRecords: blank, skippedChars };
  }

  /** At end of input: the last record if the file does not end with a newline. */
  finish(): ScannedText & { unterminatedQuote: boolean } {
    const rest = this.carry;
    const unterminatedQuote = this.inQuotes;
    this.carry = '';
    this.scanPos = 0;
    if (rest.length === 0 || /^[\r\n]*$/.test(rest)) return { text: '', records: 0, blankRecords: 0, skippedChars: rest, unterminatedQuote };
    if (this.toSkip > 0) {
      this.toSkip--;
      return { text: '', records: 0, blankRecords: 0, skippedChars: rest, unterminatedQuote };
    }
    return { text: `${rest}${this.terminator === '\r' ? '\r' : '\n'}`, records: 1, blankRecords: 0, skippedChars: '', unterminatedQuote };
  }

  /** Characters held back because their record is not complete yet. */
  get pendingLength(): number {
    return this.carry.length;
  }
}
