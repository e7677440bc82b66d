// Seeded generator of varied CSV files with known dialect, header, encoding and row count, for accuracy tests.
import iconv from 'iconv-lite';
import type { Delimiter, Encoding, Newline, Quote } from '../../../src/csv';

export interface GeneratedFile {
  name: string;
  bytes: Buffer;
  /** The decoded text as written, without BOM. */
  text: string;
  delimiter: Delimiter;
  quote: Quote;
  newline: Newline;
  hasHeader: boolean;
  preambleLines: number;
  encoding: Encoding;
  rows: number;
  columns: number;
  kinds: Kind[];
}

type Kind = 'id' | 'int' | 'bigint' | 'decimal' | 'eu-decimal' | 'thousands' | 'bool' | 'date' | 'mon-date' | 'datetime' | 'name' | 'note' | 'code' | 'zero-code';

/** mulberry32: tiny, fast and good enough to make the corpus reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPED: Kind[] = ['id', 'int', 'bigint', 'decimal', 'eu-decimal', 'thousands', 'bool', 'date', 'mon-date', 'datetime'];
const TEXTUAL: Kind[] = ['name', 'name', 'note', 'code', 'zero-code'];
const WORDS = ['North', 'River', 'Zürich', 'São', 'Paulo', 'Besançon', 'Øresund', 'Málaga', 'Köln', 'Grand', 'Station', 'Lake', 'Ñandú', 'Bay', 'Hill', "O'Brien", 'Straße'];
const UNICODE_WORDS = ['東京', 'Łódź', 'Αθήνα', 'Москва', 'Kraków'];
const CP1252_WORDS = ['€uro', 'it’s', '“quoted”'];
const NOTES = ['Smith, John', 'a; b; c', 'left | right', 'tab\there', 'say "hi"', "it's fine", 'two\nlines', 'CRLF\r\ninside', 'plain note', ' padded ', 'ok', 'ready', 'x'.repeat(300)];
const COLUMN_WORDS = ['code', 'name', 'city', 'country', 'amount', 'price', 'rate', 'opened', 'status', 'region', 'ref', 'value', 'count', 'note', 'updated', 'active', 'weight', 'label', 'Amount (EUR)', 'Q1 2024', 'n', 'is active', 'ISIN', 'x'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pick<T>(rnd: () => number, items: readonly T[]): T {
  return items[Math.floor(rnd() * items.length)] as T;
}

function weighted<T>(rnd: () => number, choices: [T, number][]): T {
  let r = rnd() * choices.reduce((s, [, w]) => s + w, 0);
  for (const [value, weight] of choices) if ((r -= weight) < 0) return value;
  return (choices[0] as [T, number])[0];
}

const int = (rnd: () => number, lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
const two = (n: number): string => String(n).padStart(2, '0');

function value(rnd: () => number, kind: Kind, row: number, words: string[], boolStyle: [string, string]): string {
  const [y, m, d] = [int(rnd, 1950, 2030), int(rnd, 1, 12), int(rnd, 1, 28)];
  switch (kind) {
    case 'id': return String(row + 1);
    case 'int': return String(int(rnd, -5000, 100000));
    case 'bigint': return String(int(rnd, 1, 9)) + String(int(rnd, 100000000, 999999999)) + String(int(rnd, 100, 999));
    case 'decimal': return (rnd() * 20000 - 2000).toFixed(2);
    case 'eu-decimal': return (rnd() * 2000).toFixed(2).replace('.', ',');
    case 'thousands': return Math.round(rnd() * 2e6).toLocaleString('en-US');
    case 'bool': return rnd() < 0.5 ? boolStyle[0] : boolStyle[1];
    case 'date': return `${y}-${two(m)}-${two(d)}`;
    case 'mon-date': return `${two(d)}-${MONTHS[m - 1]}-${y}`;
    case 'datetime': return `${y}-${two(m)}-${two(d)}${rnd() < 0.5 ? 'T' : ' '}${two(int(rnd, 0, 23))}:${two(int(rnd, 0, 59))}:${two(int(rnd, 0, 59))}`;
    case 'name': return `${pick(rnd, words)} ${pick(rnd, words)}`;
    case 'note': return pick(rnd, NOTES);
    case 'code': return Array.from({ length: 3 }, () => String.fromCharCode(65 + int(rnd, 0, 25))).join('');
    case 'zero-code': return `00${int(rnd, 100, 999)}`;
  }
}

function headerName(rnd: () => number, i: number, used: Set<string>): string {
  const base = pick(rnd, COLUMN_WORDS);
  const style = int(rnd, 0, 2);
  let name = style === 0 ? base : style === 1 ? `${base[0]?.toUpperCase()}${base.slice(1)}` : `${base}_${pick(rnd, ['id', 'code', 'date', 'eur', 'txt'])}`;
  if (used.has(name)) name = `${name}_${i}`;
  used.add(name);
  return name;
}

function quoteField(field: string, d: Delimiter, q: Quote, quoteAll: boolean): string {
  const needs = field.includes(d) || field.includes(q) || field.includes('\n') || field.includes('\r');
  return needs || quoteAll ? `${q}${field.split(q).join(q + q)}${q}` : field;
}

function encodeText(text: string, encoding: Encoding): Buffer {
  switch (encoding) {
    case 'utf-8': return Buffer.from(text, 'utf8');
    case 'utf-8-bom': return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
    case 'utf-16le': return Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(text, 'utf16le')]);
    case 'utf-16be': return Buffer.concat([Buffer.from([0xfe, 0xff]), iconv.encode(text, 'utf16be')]);
    case 'windows-1252': return iconv.encode(text, 'win1252');
    case 'latin1': return iconv.encode(text, 'latin1');
  }
}

function chooseKinds(rnd: () => number, columns: number, hasHeader: boolean, delimiter: Delimiter): Kind[] {
  const kinds = Array.from({ length: columns }, () => (rnd() < 0.55 ? pick(rnd, TYPED) : pick(rnd, TEXTUAL)));
  // Decimal commas come with semicolon or tab files; thousands separators turn up anywhere (quoted when needed).
  if (delimiter === ',') kinds.forEach((k, i) => k === 'eu-decimal' && (kinds[i] = 'decimal'));
  // A headerless table of words only is undecidable even for a person; real headerless exports carry numbers.
  if (!hasHeader && kinds.every((k) => TEXTUAL.includes(k))) kinds[0] = pick(rnd, TYPED);
  return kinds;
}

function preamble(rnd: () => number, d: Delimiter, columns: number): string[] {
  const lines: string[] = [];
  const count = int(rnd, 1, 3);
  for (let i = 0; i < count; i++) {
    const title = pick(rnd, ['Reference data export', 'Airports report', `Generated 2024-${two(int(rnd, 1, 12))}-01`, '# source: ops system']);
    lines.push(weighted(rnd, [[title, 3], ['', 1], [columns >= 3 ? title + d.repeat(columns - 1) : title, 1]]));
  }
  if (lines[lines.length - 1] === '' && lines.length === 1) lines[0] = 'Report';
  return lines;
}

export function generateFile(seed: number): GeneratedFile {
  const rnd = seededRandom(seed);
  const delimiter = weighted<Delimiter>(rnd, [[',', 40], [';', 25], ['\t', 20], ['|', 15]]);
  const quote = weighted<Quote>(rnd, [['"', 85], ["'", 15]]);
  const newline = weighted<Newline>(rnd, [['\n', 50], ['\r\n', 40], ['\r', 10]]);
  const encoding = weighted<Encoding>(rnd, [['utf-8', 45], ['utf-8-bom', 15], ['utf-16le', 10], ['utf-16be', 5], ['windows-1252', 17], ['latin1', 8]]);
  const hasHeader = rnd() < 0.85;
  const columns = rnd() < 0.06 ? 1 : int(rnd, 2, 12);
  const rows = rnd() < 0.1 ? int(rnd, 1, 4) : int(rnd, 5, 250);
  const quoteAll = rnd() < 0.25;
  const kinds = chooseKinds(rnd, columns, hasHeader, delimiter);
  const trailing = columns > 1 && rnd() < 0.05 ? delimiter : '';
  const words = encoding.startsWith('utf') ? [...WORDS, ...UNICODE_WORDS] : encoding === 'windows-1252' ? [...WORDS, ...CP1252_WORDS] : WORDS;
  const boolStyle = pick<[string, string]>(rnd, [['true', 'false'], ['yes', 'no'], ['Y', 'N']]);
  const nullRate = rnd() < 0.5 ? 0 : rnd() * 0.15;
  const lines: string[] = hasHeader && columns > 1 && rnd() < 0.15 ? preamble(rnd, delimiter, columns) : [];
  const preambleLines = lines.length;
  const used = new Set<string>();
  if (hasHeader) lines.push(kinds.map((_, i) => quoteField(headerName(rnd, i, used), delimiter, quote, quoteAll)).join(delimiter) + trailing);
  for (let r = 0; r < rows; r++) {
    const cells = kinds.map((kind) => {
      const blank = kind !== 'id' && columns > 1 && rnd() < nullRate;
      return quoteField(blank ? '' : value(rnd, kind, r, words, boolStyle), delimiter, quote, quoteAll && !TYPED.includes(kind));
    });
    lines.push(cells.join(delimiter) + trailing);
  }
  const text = lines.join(newline) + (rnd() < 0.9 ? newline : '');
  return {
    name: `corpus_${seed}.csv`, bytes: encodeText(text, encoding), text, delimiter, quote, newline,
    hasHeader, preambleLines, encoding, rows, columns, kinds,
  };
}
