// Streams the elements of a top-level JSON array (Upstox complete.json) with stream-json's tokenizer, one at a time.
import type { parser as StreamJsonParser } from 'stream-json';

type Token = StreamJsonParser.Token;
type Flushable = (chunk: string | symbol) => unknown;

// stream-json 3 is ESM with typed entry points under `exports`, which this project's node10 resolution cannot
// see; its tokenizer is loaded by path (Node 20 requires ESM synchronously). The synchronous tokenizer is used
// directly because the Duplex and generator wrappers cost 4–5× more per token on a 150,000-instrument file.
const { jsonParser } = require('stream-json/core/parser.js') as { jsonParser: (options?: StreamJsonParser.ParserOptions) => Flushable };
const { none, isMany, getManyValues } = require('stream-chain/defs.js') as {
  none: symbol;
  isMany: (o: unknown) => boolean;
  getManyValues: (o: unknown) => Token[];
};

type Container = unknown[] | Record<string, unknown>;

/** Thrown when the text is not one JSON array (a bare object, a scalar) or breaks off before its end. */
export class JsonShapeError extends Error {}

/** Rebuilds each element of the top-level array from tokens; an element's memory is freed once it is handed out. */
class ElementAssembler {
  private readonly stack: Container[] = [];
  private readonly keys: (string | null)[] = [];
  private started = false;
  ended = false;

  private put(value: unknown, out: unknown[]): void {
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) {
      if (!this.started || this.ended) throw new JsonShapeError('the file is not a JSON array of instruments');
      out.push(value);
    } else if (Array.isArray(top)) {
      top.push(value);
    } else {
      const key = this.keys[this.keys.length - 1] ?? '';
      // A "__proto__" key must stay data, as with JSON.parse, not become the object's prototype.
      if (key === '__proto__') Object.defineProperty(top, key, { value, enumerable: true, writable: true, configurable: true });
      else top[key] = value;
    }
  }

  consume(t: Token, out: unknown[]): void {
    switch (t.name) {
      case 'startArray':
      case 'startObject':
        if (!this.started) {
          if (t.name !== 'startArray') throw new JsonShapeError('the file is a JSON object, not an array of instruments');
          this.started = true;
          return;
        }
        if (this.ended) throw new JsonShapeError('the file has more JSON after its array');
        this.stack.push(t.name === 'startArray' ? [] : {});
        this.keys.push(null);
        return;
      case 'endArray':
      case 'endObject': {
        const done = this.stack.pop();
        this.keys.pop();
        if (done === undefined) this.ended = true;
        else this.put(done, out);
        return;
      }
      case 'keyValue':
        this.keys[this.keys.length - 1] = t.value;
        return;
      case 'stringValue':
        return this.put(t.value, out);
      case 'numberValue':
        return this.put(Number(t.value), out);
      case 'nullValue':
        return this.put(null, out);
      case 'trueValue':
        return this.put(true, out);
      case 'falseValue':
        return this.put(false, out);
      default:
        return;
    }
  }
}

/** Yields the array's elements in order; throws JsonShapeError on a malformed or truncated document. */
export async function* jsonArrayElements(text: AsyncIterable<string>): AsyncGenerator<unknown> {
  const tokenize = jsonParser({ packValues: true, streamValues: false });
  const assembler = new ElementAssembler();
  const out: unknown[] = [];
  const feed = (chunk: string | symbol) => {
    let result: unknown;
    try {
      result = tokenize(chunk);
    } catch (err) {
      throw new JsonShapeError(`the JSON is malformed or cut off: ${(err as Error).message}`);
    }
    if (isMany(result)) for (const t of getManyValues(result)) assembler.consume(t, out);
  };
  for await (const chunk of text) {
    feed(chunk);
    // Handing elements out per chunk keeps memory at one chunk's worth of instruments.
    yield* out;
    out.length = 0;
  }
  feed(none);
  yield* out;
  if (!assembler.ended) throw new JsonShapeError('the JSON array is cut off before its closing bracket');
}
