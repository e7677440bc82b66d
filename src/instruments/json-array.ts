// Streams the elements of a top-level JSON array (Upstox complete.json): a splitter finds where each element
// ends, and JSON.parse (native) builds every element completed in a chunk in one call.
//
// Why not a streaming tokenizer: building each value from tokens in JavaScript (stream-json) cost ~4× the time
// of the splitter plus JSON.parse on a 150,000-instrument file, and made most of the garbage a sync collects.
// The splitter only follows what decides where an element ends: nesting depth outside strings, and strings
// (with their escapes); JSON.parse checks everything else, so a malformed element fails like a malformed file.

/** Thrown when the text is not one JSON array (a bare object, a scalar) or breaks off before its end. */
export class JsonShapeError extends Error {}

const QUOTE = 0x22;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const BOM = 0xfeff;

/** First characters of a JSON value: `{ [ "`, a digit or minus, and t(rue) f(alse) n(ull). */
const STARTS_VALUE: boolean[] = [];
for (const ch of '{["-0123456789tfn') STARTS_VALUE[ch.charCodeAt(0)] = true;

const isWhitespace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Where the splitter is between two characters of the document. */
const enum At {
  /** Before the opening bracket. */
  Start,
  /** After `[`: an element or `]`. */
  FirstValue,
  /** After `,`: an element (a trailing comma is malformed). */
  Value,
  /** Inside an element. */
  InElement,
  /** After an element: `,` or `]`. */
  AfterValue,
  /** After the closing bracket: only whitespace. */
  End,
}

/**
 * Splits the text of one JSON array, fed in chunks cut anywhere, into the source text of its elements, and
 * parses the elements each chunk completes. Holds at most one unfinished element between chunks.
 */
export class JsonArraySplitter {
  private at: At = At.Start;
  /** Nesting depth inside the current element (0 for a scalar element). */
  private depth = 0;
  private inString = false;
  /** The chunk ended on a backslash inside a string: the next chunk's first character is escaped. */
  private escapePending = false;
  /** Text of the element(s) not yet parsed, carried over from earlier chunks. */
  private carried = '';
  /** Elements found so far (for error messages). */
  private count = 0;

  get ended(): boolean {
    return this.at === At.End;
  }

  /** Feeds one chunk; returns the elements that it completed, in order. */
  push(chunk: string): unknown[] {
    const n = chunk.length;
    /** Index in `chunk` where the unparsed text (after `carried`) starts, and how far it is complete. */
    let spanStart = this.at === At.InElement ? 0 : -1;
    let spanEnd = -1;
    let elements = 0;
    let nextBackslash = -2;
    let i = 0;
    while (i < n) {
      if (this.inString) {
        // Jump to the closing quote; backslashes (rare) escape the character after them.
        if (this.escapePending) {
          this.escapePending = false;
          i++;
          continue;
        }
        if (nextBackslash !== -1 && nextBackslash < i) nextBackslash = chunk.indexOf('\\', i);
        const quote = chunk.indexOf('"', i);
        if (nextBackslash !== -1 && (quote === -1 || nextBackslash < quote)) {
          i = nextBackslash + 2;
          if (i > n) this.escapePending = true;
          continue;
        }
        if (quote === -1) break;
        this.inString = false;
        i = quote + 1;
        if (this.depth === 0) {
          // A string element ends with its closing quote.
          this.at = At.AfterValue;
          spanEnd = i;
          elements++;
          this.count++;
        }
        continue;
      }
      const c = chunk.charCodeAt(i);
      switch (this.at) {
        case At.InElement:
          if (c === QUOTE) this.inString = true;
          else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth++;
          else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
            if (this.depth === 0) {
              // `]` right after a scalar element ends both; anything else JSON.parse rejects.
              this.at = At.AfterValue;
              spanEnd = i;
              elements++;
              this.count++;
              continue;
            }
            if (--this.depth === 0) {
              this.at = At.AfterValue;
              spanEnd = i + 1;
              elements++;
              this.count++;
            }
          } else if (this.depth === 0 && (c === COMMA || isWhitespace(c))) {
            // The end of a scalar element (a number, true, false, null).
            this.at = At.AfterValue;
            spanEnd = i;
            elements++;
            this.count++;
            continue;
          }
          break;
        case At.AfterValue:
          if (c === COMMA) this.at = At.Value;
          else if (c === CLOSE_BRACKET) this.at = At.End;
          else if (!isWhitespace(c)) throw this.malformed(`unexpected ${describe(c)} between records`);
          break;
        case At.FirstValue:
        case At.Value:
          if (isWhitespace(c)) break;
          if (c === CLOSE_BRACKET) {
            if (this.at === At.Value) throw this.malformed('a comma before the closing bracket');
            this.at = At.End;
            break;
          }
          if (!STARTS_VALUE[c]) throw this.malformed(`unexpected ${describe(c)} where a record should be`);
          if (spanStart === -1) spanStart = i;
          this.at = At.InElement;
          this.depth = 0;
          if (c === QUOTE) this.inString = true;
          else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth = 1;
          break;
        case At.Start:
          if (isWhitespace(c) || (c === BOM && i === 0)) break;
          if (c === OPEN_BRACKET) this.at = At.FirstValue;
          else if (c === OPEN_BRACE) throw new JsonShapeError('the file is a JSON object, not an array of instruments');
          else throw new JsonShapeError('the file is not a JSON array of instruments');
          break;
        case At.End:
          if (!isWhitespace(c)) throw new JsonShapeError('the file has more JSON after its array');
          break;
      }
      i++;
    }
    const parsed = elements > 0 ? this.parse(this.carried + chunk.slice(spanStart, spanEnd), elements) : [];
    if (elements > 0) this.carried = '';
    if (this.at === At.InElement) {
      // Keep the unfinished element (and only it) for the next chunk.
      const from = elements > 0 || spanStart === -1 ? this.elementStartAfter(chunk, spanEnd, spanStart) : spanStart;
      this.carried += chunk.slice(from);
    }
    return parsed;
  }

  /** Call after the last chunk: throws if the array is not complete. */
  end(): void {
    if (this.at === At.Start) throw new JsonShapeError('the file is not a JSON array of instruments');
    if (this.at !== At.End) throw new JsonShapeError(`the JSON array is cut off before its closing bracket (after ${this.count} records)`);
  }

  /** Where the unfinished element at the end of the chunk starts: the first non-separator after the last complete one. */
  private elementStartAfter(chunk: string, spanEnd: number, spanStart: number): number {
    let j = spanEnd === -1 ? Math.max(spanStart, 0) : spanEnd;
    while (j < chunk.length) {
      const c = chunk.charCodeAt(j);
      if (c !== COMMA && !isWhitespace(c)) break;
      j++;
    }
    return j;
  }

  private parse(text: string, expected: number): unknown[] {
    let values: unknown;
    try {
      values = JSON.parse(`[${text}]`);
    } catch (err) {
      throw new JsonShapeError(`the JSON is malformed: ${jsonErrorKind(err)} (in records ${this.count - expected + 1}–${this.count})`);
    }
    if (!Array.isArray(values) || values.length !== expected) throw this.malformed('records could not be told apart');
    return values;
  }

  private malformed(detail: string): JsonShapeError {
    return new JsonShapeError(`the JSON is malformed or cut off: ${detail} (after ${this.count} records)`);
  }
}

function describe(c: number): string {
  return `"${String.fromCharCode(c)}"`;
}

/** Yields, per chunk of text, the array elements it completed; throws JsonShapeError on a malformed or truncated document. */
export async function* jsonArrayBatches(text: AsyncIterable<string>): AsyncGenerator<unknown[]> {
  const splitter = new JsonArraySplitter();
  for await (const chunk of text) {
    const elements = splitter.push(chunk);
    if (elements.length > 0) yield elements;
  }
  splitter.end();
}

/** Yields the array's elements one at a time (see jsonArrayBatches). */
export async function* jsonArrayElements(text: AsyncIterable<string>): AsyncGenerator<unknown> {
  for await (const batch of jsonArrayBatches(text)) yield* batch;
}

/** A JSON.parse message without the excerpt of the input that Node puts in it (the input may be anything). */
export function jsonErrorKind(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  if (/end of (JSON )?input/i.test(message)) return 'it ends in the middle of a value';
  const at = /position (\d+)/.exec(message);
  return at ? `unexpected character at position ${at[1]}` : 'unexpected character';
}
