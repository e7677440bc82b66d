// Reading what a distribution wrote: CSV parsed independently of the writer, SHA-256 of files, the manifest.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { UpstoxRecord } from './instrument-files';

/** RFC 4180 parsing (quoted fields, doubled quotes, line breaks inside quotes), so the test reads the bytes as a consumer would. */
export function parseCsv(text: string): { header: string[]; rows: Record<string, string | null>[] } {
  const records: Array<Array<string | null>> = [];
  let field = '';
  let quoted = false;
  let wasQuoted = false;
  let row: Array<string | null> = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') {
      quoted = true;
      wasQuoted = true;
    } else if (c === ',' || c === '\n') {
      // An unquoted empty field is NULL (COPY's convention); a quoted one is the empty string.
      row.push(field === '' && !wasQuoted ? null : field);
      field = '';
      wasQuoted = false;
      if (c === '\n') {
        records.push(row);
        row = [];
      }
    } else field += c;
  }
  const [header, ...rest] = records;
  if (!header) throw new Error('empty CSV');
  return { header: header.map(String), rows: rest.map((r) => Object.fromEntries(header.map((h, i) => [String(h), r[i] ?? null]))) };
}

export function readCsv(dir: string, name: string) {
  return parseCsv(fs.readFileSync(path.join(dir, name), 'utf8'));
}

export const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

export interface ManifestJson {
  submission_id: string;
  run_id: string;
  business_date: string;
  kind: string;
  generated_at: string;
  watermark: { from: string | null; to: string };
  files: Array<{ name: string; type: string; dataset: string; rows: number; bytes: number; sha256: string }>;
}

export const readJson = <T>(dir: string, name: string): T => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as T;

/** Every file the manifest lists has exactly the size and SHA-256 it says. */
export function checkManifest(dir: string, manifest: ManifestJson): void {
  for (const f of manifest.files) {
    const file = path.join(dir, f.name);
    const bytes = fs.statSync(file).size;
    const hash = sha256(file);
    if (bytes !== f.bytes || hash !== f.sha256) throw new Error(`${f.name}: ${bytes} bytes / ${hash}, manifest says ${f.bytes} / ${f.sha256}`);
  }
}

export const keysOf = (records: Array<{ instrument_key: string }>) => records.map((r) => r.instrument_key).sort();

/** What changed between two generated masters, by key: the delta and cancellation files must say exactly this. */
export function changesBetween(before: UpstoxRecord[], after: UpstoxRecord[]): { added: string[]; changed: string[]; removed: string[] } {
  const old = new Map(before.map((r) => [r.instrument_key, r]));
  const now = new Map(after.map((r) => [r.instrument_key, r]));
  const added = after.filter((r) => !old.has(r.instrument_key)).map((r) => r.instrument_key).sort();
  const removed = before.filter((r) => !now.has(r.instrument_key)).map((r) => r.instrument_key).sort();
  const changed = after.filter((r) => old.has(r.instrument_key) && old.get(r.instrument_key)!.lot_size !== r.lot_size).map((r) => r.instrument_key).sort();
  return { added, changed, removed };
}
