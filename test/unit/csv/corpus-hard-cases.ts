// Seeded generator of the shapes detection used to get wrong: numbers as column names (years, numeric codes, dates),
// headerless files whose first row is text, and values coloured with terminal escape sequences. Added to the
// detection corpus beside the ordinary files.
import type { Delimiter } from '../../../src/csv';
import { type GeneratedFile, seededRandom } from './corpus-generator';

export type HardKind = 'years' | 'codes' | 'dates' | 'all-years' | 'headerless-text' | 'headerless-years' | 'escapes';
export const HARD_KINDS: readonly HardKind[] = ['years', 'codes', 'dates', 'all-years', 'headerless-text', 'headerless-years', 'escapes'];

const COUNTRIES = ['France', 'Germany', 'Spain', 'Italy', 'Japan', 'Brazil', 'Canada', 'Kenya', 'Chile', 'Norway', 'Peru', 'Egypt'];
const LABELS = ['country', 'Country', 'region', 'Indicator', 'account', 'Series name', 'item'];
const CATEGORIES = ['Retail', 'Wholesale', 'Online', 'Export'];
const SURNAMES = ['Garcia', 'Okafor', 'Tanaka', 'Novak', 'Silva', 'Larsen', 'Haddad', 'Moreau'];
const GIVEN = ['Ana', 'Jon', 'Mei', 'Ivan', 'Lea', 'Omar', 'Sara', 'Tom'];

const int = (rnd: () => number, lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
const pick = <T>(rnd: () => number, items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;
const two = (n: number): string => String(n).padStart(2, '0');

/** A figure under a numeric header: decimals, integers of a different width, or (the hardest) four-digit integers. */
function figure(rnd: () => number, style: number): string {
  if (style === 0) return (rnd() * 100).toFixed(int(rnd, 1, 2));
  if (style === 1) return String(int(rnd, 10_000, 9_999_999));
  if (style === 2) return String(int(rnd, 1000, 9999));
  return (rnd() * 5 - 1).toFixed(3);
}

function lastDay(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

function numericHeads(rnd: () => number, kind: HardKind, n: number): string[] {
  if (kind === 'codes') {
    if (rnd() < 0.5) {
      const start = int(rnd, 1, 9) * 1000;
      const step = pick(rnd, [10, 100, 1000]);
      return Array.from({ length: n }, (_, i) => String(start + i * step));
    }
    // Unordered codes (ISO 3166 numeric style): distinct, three digits wide.
    const set = new Set<string>();
    while (set.size < n) set.add(String(int(rnd, 100, 899)));
    return [...set];
  }
  if (kind === 'dates') {
    const y = int(rnd, 2015, 2024);
    const m0 = int(rnd, 1, 6);
    const style = int(rnd, 0, 2);
    return Array.from({ length: n }, (_, i) => {
      const m = m0 + i;
      const [yy, mm] = [y + Math.floor((m - 1) / 12), ((m - 1) % 12) + 1];
      if (style === 0) return `${yy}-${two(mm)}-${two(lastDay(yy, mm))}`;
      if (style === 1) return `${yy}-${two(mm)}`;
      return `${yy}-01-${two(i + 1)}`;
    });
  }
  const start = int(rnd, 1990, 2020);
  const step = rnd() < 0.8 ? 1 : 5;
  return Array.from({ length: n }, (_, i) => String(start + i * step));
}

function labelCell(rnd: () => number, r: number): string {
  return rnd() < 0.5 ? (COUNTRIES[r % COUNTRIES.length] as string) + (r >= COUNTRIES.length ? ` ${r}` : '') : `Series ${String.fromCharCode(65 + (r % 26))}${r}`;
}

/** A headerless table whose first row is words: codes of one width, names, a repeating category, a figure. */
function headerlessText(rnd: () => number, rows: number, d: Delimiter): string[] {
  const withFigure = rnd() < 0.7;
  return Array.from({ length: rows }, (_, r) => {
    const code = Array.from({ length: 3 }, () => String.fromCharCode(65 + int(rnd, 0, 25))).join('');
    const cells = [code, `${pick(rnd, GIVEN)} ${pick(rnd, SURNAMES)}`, pick(rnd, CATEGORIES)];
    // The first row's figure is missing, which makes the whole row text.
    if (withFigure) cells.push(r === 0 ? '' : (rnd() * 900).toFixed(2));
    return cells.join(d);
  });
}

/** A headerless table of figures by year, one row per year: numbers in the first row, but no header. */
function headerlessYears(rnd: () => number, rows: number, d: Delimiter): string[] {
  const start = int(rnd, 1960, 2000);
  const cols = int(rnd, 2, 5);
  return Array.from({ length: rows }, (_, r) => [String(start + r), ...Array.from({ length: cols }, () => figure(rnd, int(rnd, 0, 3)))].join(d));
}

/** Console output pasted into a table: status words in colour, some bold, with cursor codes. */
function escapes(rnd: () => number, rows: number, d: Delimiter): string[] {
  const esc = '\u001b';
  const colour = (word: string): string => `${esc}[${pick(rnd, ['31', '32', '33', '1;31', '38;5;208'])}m${word}${esc}[0m`;
  const lines = [['job', 'status', 'detail', 'took_ms'].join(d)];
  for (let r = 0; r < rows; r++) {
    const detail = rnd() < 0.5 ? colour(pick(rnd, ['disk full', 'retrying', 'done'])) : `${esc}[2K${esc}[1G${pick(rnd, ['ok', 'skipped'])}`;
    const cells = [`job-${r + 1}`, colour(pick(rnd, ['OK', 'FAILED', 'WARN'])), detail, String(int(rnd, 5, 90_000))];
    lines.push(cells.map((c) => (c.includes(d) ? `"${c}"` : c)).join(d));
  }
  return lines;
}

export function generateHardFile(seed: number): GeneratedFile & { hardKind: HardKind } {
  const rnd = seededRandom(seed);
  const kind = HARD_KINDS[seed % HARD_KINDS.length] as HardKind;
  const delimiter = pick<Delimiter>(rnd, [',', ',', ';', '\t']);
  const newline = pick(rnd, ['\n', '\r\n'] as const);
  const rows = rnd() < 0.15 ? int(rnd, 3, 6) : int(rnd, 7, 60);
  let lines: string[];
  let hasHeader = true;
  if (kind === 'headerless-text') {
    lines = headerlessText(rnd, rows, delimiter);
    hasHeader = false;
  } else if (kind === 'escapes') {
    lines = escapes(rnd, rows, delimiter);
  } else if (kind === 'headerless-years') {
    lines = headerlessYears(rnd, rows, delimiter);
    hasHeader = false;
  } else {
    const n = int(rnd, 3, 9);
    const heads = numericHeads(rnd, kind, n);
    const labels = kind === 'all-years' ? 0 : rnd() < 0.8 ? 1 : 2;
    const labelNames = [pick(rnd, LABELS), 'unit'].slice(0, labels);
    const style = int(rnd, 0, 3);
    const blanks = rnd() < 0.3 ? 0.1 : 0;
    lines = [[...labelNames, ...heads].join(delimiter)];
    for (let r = 0; r < rows; r++) {
      const label = [labelCell(rnd, r), pick(rnd, ['USD', 'EUR', '%'])].slice(0, labels);
      lines.push([...label, ...heads.map(() => (rnd() < blanks ? '' : figure(rnd, style)))].join(delimiter));
    }
  }
  const text = lines.join(newline) + newline;
  const columns = lines[0]!.split(delimiter).length;
  return {
    name: `hard_${kind}_${seed}.csv`, bytes: Buffer.from(text, 'utf8'), text, delimiter, quote: '"', newline,
    hasHeader, preambleLines: 0, encoding: 'utf-8', rows, columns, kinds: [], hardKind: kind,
  };
}
