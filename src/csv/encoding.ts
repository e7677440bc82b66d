// Recognises how a file's bytes are encoded (and whether they are text at all) from a sample, and decodes them.
import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';

export type Encoding = 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'utf-16be' | 'windows-1252' | 'latin1';
export type Compression = 'gzip' | 'zip';

const BOMS: { encoding: Encoding; bytes: number[] }[] = [
  { encoding: 'utf-8-bom', bytes: [0xef, 0xbb, 0xbf] },
  { encoding: 'utf-16le', bytes: [0xff, 0xfe] },
  { encoding: 'utf-16be', bytes: [0xfe, 0xff] },
];

const ICONV_NAMES: Record<Encoding, string> = {
  'utf-8': 'utf8',
  'utf-8-bom': 'utf8',
  'utf-16le': 'utf16le',
  'utf-16be': 'utf16be',
  'windows-1252': 'win1252',
  latin1: 'latin1',
};

// Bytes windows-1252 leaves undefined; a file holding them was written as ISO-8859-1 (C1 controls survive there).
const UNDEFINED_IN_1252 = new Set([0x81, 0x8d, 0x8f, 0x90, 0x9d]);

// Formats people rename to .csv by mistake; any of them means "not a text table".
const BINARY_MAGIC: number[][] = [
  [0x25, 0x50, 0x44, 0x46], // %PDF
  [0x89, 0x50, 0x4e, 0x47], // PNG
  [0xd0, 0xcf, 0x11, 0xe0], // OLE2: legacy .xls
  [0x7f, 0x45, 0x4c, 0x46], // ELF
];

function startsWith(sample: Buffer, bytes: number[]): boolean {
  return sample.length >= bytes.length && bytes.every((b, i) => sample[i] === b);
}

function bomOf(sample: Buffer): Encoding | null {
  return BOMS.find((bom) => startsWith(sample, bom.bytes))?.encoding ?? null;
}

/** UTF-16 without a BOM shows as a NUL in every other byte for Latin text; the side of the NULs gives the order. */
function guessUtf16(sample: Buffer): 'utf-16le' | 'utf-16be' | null {
  const pairs = Math.floor(Math.min(sample.length, 4096) / 2);
  if (pairs < 2) return null;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < pairs; i++) {
    if (sample[2 * i] === 0) evenZeros++;
    if (sample[2 * i + 1] === 0) oddZeros++;
  }
  if (oddZeros / pairs > 0.3 && evenZeros / pairs < 0.05) return 'utf-16le';
  if (evenZeros / pairs > 0.3 && oddZeros / pairs < 0.05) return 'utf-16be';
  return null;
}

/** Length of a multi-byte UTF-8 sequence cut off at the end of a sample, which is not an encoding error. */
function truncatedUtf8Tail(sample: Buffer): number {
  for (let back = 1; back <= Math.min(3, sample.length); back++) {
    const byte = sample[sample.length - back] ?? 0;
    if ((byte & 0xc0) === 0x80) continue;
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? back : 0;
  }
  return 0;
}

/** Length of the well-formed UTF-8 multi-byte sequence starting at `i` (RFC 3629 ranges), or 0. */
function utf8SequenceAt(buf: Buffer, i: number): number {
  const b = buf[i]!;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < buf.length && buf[i + k]! >= lo && buf[i + k]! <= hi;
  if (b >= 0xc2 && b <= 0xdf) return cont(1) ? 2 : 0;
  if (b >= 0xe0 && b <= 0xef) {
    const [lo, hi] = b === 0xe0 ? [0xa0, 0xbf] : b === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    const [lo, hi] = b === 0xf0 ? [0x90, 0xbf] : b === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/** Well-formed UTF-8 multi-byte characters in `buf` before `end`, and the offset of the first byte that is not UTF-8 (-1: none). */
function scanUtf8(buf: Buffer, end = buf.length): { utf8Chars: number; firstBad: number } {
  let utf8Chars = 0;
  let firstBad = -1;
  for (let i = 0; i < end; i++) {
    if (buf[i]! < 0x80) continue;
    const len = utf8SequenceAt(buf, i);
    if (len > 0) {
      utf8Chars++;
      i += len - 1;
    } else if (firstBad < 0) firstBad = i;
  }
  return { utf8Chars, firstBad };
}

/** Offset of the first byte of `buf` that is not part of well-formed UTF-8 (-1: none); the bytes before it decode cleanly. */
export function firstNonUtf8Byte(buf: Buffer): number {
  return scanUtf8(buf).firstBad;
}

/** Well-formed UTF-8 multi-byte characters in `buf` (a sequence cut at either end is not counted). */
export function countUtf8Characters(buf: Buffer): number {
  return scanUtf8(buf).utf8Chars;
}

/**
 * A sample that is not valid UTF-8 but holds well-formed UTF-8 characters as well (two or more: one could be a
 * coincidence of two Windows-1252 letters) was put together from differently encoded parts. Decoding it either way
 * would garble one part, so it is refused. Returns the 1-based line of the first byte that is not UTF-8, or null.
 */
export function mixedEncodingLine(sample: Buffer): number | null {
  const { utf8Chars, firstBad } = scanUtf8(sample, sample.length - truncatedUtf8Tail(sample));
  if (firstBad < 0 || utf8Chars < 2) return null;
  return lineAt(sample, firstBad);
}

function lineAt(sample: Buffer, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (sample[i] === 0x0a) line++;
  return line;
}

/**
 * For a sample that starts with a UTF-8 byte-order mark: the 1-based line of the first byte that is not UTF-8, and the
 * single-byte encoding the bytes after the mark look like, or null when the mark tells the truth.
 */
export function brokenUtf8Bom(sample: Buffer): { line: number; looksLike: Encoding } | null {
  if (bomOf(sample) !== 'utf-8-bom') return null;
  const { firstBad } = scanUtf8(sample, sample.length - truncatedUtf8Tail(sample));
  if (firstBad < 0) return null;
  return { line: lineAt(sample, firstBad), looksLike: detectEncoding(sample.subarray(3)) };
}

export function detectEncoding(sample: Buffer): Encoding {
  const bom = bomOf(sample);
  if (bom) return bom;
  const utf16 = guessUtf16(sample);
  if (utf16) return utf16;
  if (isUtf8(sample.subarray(0, sample.length - truncatedUtf8Tail(sample)))) return 'utf-8';
  // jschardet guesses poorly on short, mostly-ASCII CSV samples (cp862 for French text), while the two single-byte
  // Western encodings differ only in 0x80–0x9F, so the bytes themselves decide.
  for (const byte of sample) if (UNDEFINED_IN_1252.has(byte)) return 'latin1';
  return 'windows-1252';
}

/**
 * BOM bytes to skip. With `head` (the file's first bytes) the answer is what is really there, which matters for
 * UTF-16 recognised without a BOM; without it, the BOM length that encoding has when written with one.
 */
export function bomLength(encoding: Encoding, head?: Buffer): number {
  const bom = BOMS.find((b) => b.encoding === encoding);
  if (!bom) return 0;
  if (head && !startsWith(head, bom.bytes)) return 0;
  return bom.bytes.length;
}

export function decode(buf: Buffer, encoding: Encoding): string {
  const skip = bomLength(encoding, buf);
  return iconv.decode(buf.subarray(skip), ICONV_NAMES[encoding], { stripBOM: false });
}

// A web page starts with a doctype or one of the outer HTML elements, possibly after an XML declaration or comments.
const HTML_START_RE = /^(?:\s|<!--[\s\S]*?-->|<\?xml[^>]*>)*<(?:!doctype\s+html|html|head|body|title|meta|script|style)[\s>/]/i;

/**
 * Whether decoded text is an HTML page (a download that failed and saved its error page as .csv): its first markup,
 * after white space, comments and an XML declaration, is a doctype or an html, head, body, title, meta, script or
 * style element. A table whose first value merely starts with `<` is not matched.
 */
export function isHtmlPage(text: string): boolean {
  return HTML_START_RE.test(text.slice(0, 64 * 1024).replace(/^\uFEFF/, ''));
}

export function detectCompression(sample: Buffer): Compression | null {
  if (startsWith(sample, [0x1f, 0x8b])) return 'gzip';
  if (sample.length >= 4 && startsWith(sample, [0x50, 0x4b]) && [0x0304, 0x0506, 0x0708].includes(sample.readUInt16BE(2))) return 'zip';
  return null;
}

/**
 * Control characters, class by class:
 * - tab, LF, VT, FF, CR and the DOS end-of-file mark (SUB) occur in real text exports: text;
 * - ESC that starts a terminal escape sequence (CSI `ESC [ … m` colours, OSC `ESC ] … BEL` titles and links) is
 *   console output pasted into a value: text, loaded as it is;
 * - NUL: binary, always (no database text type can hold it);
 * - every other C0 control, a lone ESC and DEL: signs of binary data, which refuse the file when they are more than
 *   5 % of the sample (a few stray ones load as they are).
 */
function isControlCode(code: number): boolean {
  return (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0b && code !== 0x0c && code !== 0x0d && code !== 0x1a) || code === 0x7f;
}

const ESC = 0x1b;

/** Length of the terminal escape sequence at `i` (CSI or OSC), or 0 when the ESC there starts none. */
export function escapeSequenceLength(codeAt: (i: number) => number, length: number, i: number): number {
  const kind = i + 1 < length ? codeAt(i + 1) : -1;
  if (kind === 0x5b) {
    // CSI: parameter bytes 0x30–0x3F, intermediate bytes 0x20–0x2F, one final byte 0x40–0x7E.
    let j = i + 2;
    while (j < length && codeAt(j) >= 0x30 && codeAt(j) <= 0x3f) j++;
    while (j < length && codeAt(j) >= 0x20 && codeAt(j) <= 0x2f) j++;
    return j < length && codeAt(j) >= 0x40 && codeAt(j) <= 0x7e ? j + 1 - i : 0;
  }
  if (kind === 0x5d) {
    // OSC: printable text ended by BEL or by ESC \.
    for (let j = i + 2; j < length && j < i + 4096; j++) {
      const c = codeAt(j);
      if (c === 0x07) return j + 1 - i;
      if (c === ESC) return j + 1 < length && codeAt(j + 1) === 0x5c ? j + 2 - i : 0;
      if (c < 0x20) return 0;
    }
  }
  return 0;
}

/** True when NUL occurs, or control characters that are not text (see isControlCode) are more than 5 % of them all. */
function hasBinaryControls(codeAt: (i: number) => number, length: number): boolean {
  let controls = 0;
  for (let i = 0; i < length; i++) {
    const code = codeAt(i);
    if (code === 0) return true;
    if (code === ESC) {
      const sequence = escapeSequenceLength(codeAt, length, i);
      if (sequence > 0) {
        i += sequence - 1;
        continue;
      }
    }
    if (isControlCode(code)) controls++;
  }
  return length > 0 && controls / length > 0.05;
}

/** True for archives, known binary formats, NULs in non-UTF-16 data, or too many control characters (see isControlCode). */
export function isProbablyBinary(sample: Buffer): boolean {
  if (detectCompression(sample) !== null) return true;
  if (BINARY_MAGIC.some((magic) => startsWith(sample, magic))) return true;
  const encoding = detectEncoding(sample);
  if (encoding === 'utf-16le' || encoding === 'utf-16be') {
    const text = decode(sample, encoding);
    return hasBinaryControls((i) => text.charCodeAt(i), text.length);
  }
  return hasBinaryControls((i) => sample[i]!, sample.length);
}
