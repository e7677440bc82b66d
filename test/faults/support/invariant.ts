// The one invariant every fault cell must leave true: the table holds exactly the rows it should (values read
// back), and the ledger, ref.loads, the error report, Temporal's result and the file's final folder tell one story.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FaultSystem, Outcome } from './fault-system';

export const COLUMNS = ['id', 'name', 'qty', 'price', 'tag'] as const;

/** A cell's file: `rows` rows whose ids start after `from`, each tagged (so two versions of a file differ in every row). */
export function cellCsv(tag: string, rows: number, from = 0): string {
  const lines = [COLUMNS.join(',')];
  for (let i = from + 1; i <= from + rows; i++) lines.push(`R${String(i).padStart(6, '0')},name ${i},${i % 997},${i % 1000}.${(i % 9) + 1},${tag}`);
  return `${lines.join('\n')}\n`;
}

const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex');

/** One row as a comparable string; numbers compared by value (a numeric column prints 12.5 for 12.50). */
function rowKey(values: readonly (string | null)[]): string {
  return values.map((v) => (v !== null && /^-?\d+(\.\d+)?$/.test(v) ? String(Number(v)) : String(v))).join('|');
}

export function rowsOfCsv(text: string): string[] {
  return text.split('\n').slice(1).filter((l) => l.trim() !== '').map((l) => rowKey(l.split(',')));
}

/** One drop of a file into a leaf folder and what Temporal says became of it. */
export interface Drop {
  /** Absolute path it was dropped at. */
  path: string;
  outcome: Outcome;
  /** The bytes this drop put there: what a run that loaded them but could not archive them (changed since) loaded. */
  content?: string;
}

export interface InvariantInput {
  table: string;
  mode: 'fullload' | 'append';
  /** The table's rows before the cell (row keys). */
  before: string[];
  drops: Drop[];
}

interface LoadRow { load_id: string; status: string; rows_committed: string; finished_at: Date | null }
interface LedgerRow { status: string; rows_loaded: string | null }

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(() => true, () => false);
}

/** The archived copies of a file name in its leaf's processed/ and error/ folders. */
async function archivedCopies(original: string): Promise<string[]> {
  const leaf = path.dirname(original);
  const name = path.basename(original);
  const out: string[] = [];
  for (const folder of ['processed', 'error']) {
    const entries = await fs.readdir(path.join(leaf, folder)).catch(() => [] as string[]);
    for (const e of entries) if (/^\d{8}T\d{6}Z_/.test(e) && e.slice(17) === name) out.push(path.join(leaf, folder, e));
  }
  return out;
}

export async function readTableRows(sys: FaultSystem, table: string): Promise<string[]> {
  const [{ present }] = await sys.sql<{ present: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS present`, [`data.${table}`]);
  if (!present) return [];
  const rows = await sys.sql<Record<string, string | null>>(`SELECT ${COLUMNS.map((c) => `"${c}"::text AS "${c}"`).join(', ')} FROM data."${table}"`);
  return rows.map((r) => rowKey(COLUMNS.map((c) => r[c])));
}

/** Differences between two multisets of rows, as short readable lines (empty when equal). */
function diffRows(actual: string[], expected: string[]): string[] {
  const count = new Map<string, number>();
  for (const r of expected) count.set(r, (count.get(r) ?? 0) + 1);
  for (const r of actual) count.set(r, (count.get(r) ?? 0) - 1);
  const missing = [...count].filter(([, n]) => n > 0);
  const extra = [...count].filter(([, n]) => n < 0);
  const out: string[] = [];
  if (missing.length) out.push(`table lacks ${missing.reduce((s, [, n]) => s + n, 0)} expected rows (e.g. ${missing[0][0]})`);
  if (extra.length) out.push(`table has ${extra.reduce((s, [, n]) => s - n, 0)} rows too many or unexpected (e.g. ${extra[0][0]})`);
  return out;
}

/** An append's rows carry its load id: as many as Temporal says it loaded. */
async function taggedRows(sys: FaultSystem, table: string, loadId: string, rows: number, name: string): Promise<string[]> {
  const [{ n }] = await sys.sql<{ n: string }>(`SELECT count(*) AS n FROM data."${table}" WHERE refdata_load_id = $1`, [loadId]).catch(() => [{ n: '-1' }]);
  return Number(n) !== rows ? [`${name}: the table holds ${n} rows tagged ${loadId}, Temporal says ${rows}`] : [];
}

/**
 * Checks the invariant after a cell and returns every violation found (empty when it holds). Expected table
 * contents: what it held before, plus (append) or replaced by (fullload) the rows of each file that ended in
 * processed/ as `loaded`, read from that archived copy, so a file changed under the loader shows as a mismatch.
 */
export async function checkInvariant(sys: FaultSystem, input: InvariantInput): Promise<string[]> {
  const v: string[] = [];
  const runs = new Map<string, Drop>();
  for (const d of input.drops) {
    if (d.outcome.status === 'stranded') v.push(`${path.basename(d.path)}: no workflow ran for it (stranded in the drop folder)`);
    else if (d.outcome.runId && !runs.has(d.outcome.runId)) runs.set(d.outcome.runId, d);
  }
  /** A run that loaded its file and then found it changed leaves it for a new drop: it archives nothing. */
  const leftChanged = (o: Outcome) => (o.status === 'loaded' || o.status === 'duplicate') && o.archivedTo === null && Boolean(o.note);

  // The file's final folder: each run archived its file once, nothing left behind in the leaf.
  const byPath = new Map<string, Drop[]>();
  for (const d of runs.values()) byPath.set(d.path, [...(byPath.get(d.path) ?? []), d]);
  for (const d of input.drops.filter((x, i, all) => all.findIndex((y) => y.path === x.path) === i)) {
    const copies = await archivedCopies(d.path);
    const expected = (byPath.get(d.path) ?? []).filter((r) => !leftChanged(r.outcome)).length;
    if (copies.length !== expected) v.push(`${path.basename(d.path)}: ${copies.length} archived copies in processed/ and error/, expected ${expected}`);
    if (await exists(d.path)) v.push(`${path.basename(d.path)}: still in the drop folder after its run ended`);
  }

  const loads = new Map<string, { rows: string[]; finishedAt: number }>();
  for (const [runId, d] of runs) {
    const o = d.outcome;
    const name = `${path.basename(d.path)} (${o.status})`;
    const loadId = `load_${runId}`;
    const [load] = await sys.sql<LoadRow>('SELECT load_id, status, rows_committed, finished_at FROM ref.loads WHERE load_id = $1', [loadId]);
    const copies = await archivedCopies(d.path);
    if (leftChanged(o)) {
      // Its rows are the version it loaded: the drop's own bytes, which the ledger's hash must name.
      const [row] = await sys.sql<{ file_hash: string | null; archived_path: string | null; error_message: string | null }>(
        'SELECT file_hash, archived_path, error_message FROM ref.file_monitor_tracking WHERE run_id = $1', [runId]);
      if (d.content === undefined) v.push(`${name}: not archived (${o.note}), and the test does not know what it loaded`);
      else {
        if (o.status === 'loaded' && row?.file_hash !== sha256(d.content)) v.push(`${name}: left unarchived as changed, but the ledger's hash is not that of the version dropped`);
        if (o.status === 'loaded') loads.set(runId, { rows: rowsOfCsv(d.content), finishedAt: load?.finished_at?.getTime() ?? 0 });
      }
      if (!row || row.archived_path !== null || !row.error_message?.includes(o.note!)) v.push(`${name}: the ledger does not say the file was left unarchived (${row?.archived_path ?? 'no path'}, ${row?.error_message ?? 'no message'})`);
      if (o.status === 'loaded' && (!load || load.status !== 'loaded' || Number(load.rows_committed) !== o.rows)) v.push(`${name}: ref.loads ${loadId} is ${load?.status ?? 'absent'} with ${load?.rows_committed ?? 0} rows, Temporal says loaded ${o.rows}`);
      if (o.status === 'loaded' && d.content !== undefined && rowsOfCsv(d.content).length !== o.rows) v.push(`${name}: the version dropped has ${rowsOfCsv(d.content).length} rows, Temporal says ${o.rows} were loaded`);
      if (o.status === 'loaded' && input.mode === 'append') v.push(...(await taggedRows(sys, input.table, loadId, o.rows, name)));
    } else if (o.status === 'loaded' || o.status === 'duplicate') {
      const archived = o.archivedTo;
      if (!archived || !archived.includes(`${path.sep}processed${path.sep}`) || !(await exists(archived))) v.push(`${name}: result says archived to ${archived}, which is not a file in processed/`);
      else if (await exists(`${archived}.error.json`)) v.push(`${name}: an error report lies beside the file in processed/`);
      if (o.status === 'loaded') {
        if (!load || load.status !== 'loaded') v.push(`${name}: ref.loads ${loadId} is ${load?.status ?? 'absent'}, Temporal says loaded`);
        else if (Number(load.rows_committed) !== o.rows) v.push(`${name}: ref.loads says ${load.rows_committed} rows, Temporal says ${o.rows}`);
        if (archived && (await exists(archived))) {
          const rows = rowsOfCsv(await fs.readFile(archived, 'utf8'));
          if (rows.length !== o.rows) v.push(`${name}: the archived file has ${rows.length} rows, Temporal says ${o.rows} were loaded`);
          loads.set(runId, { rows, finishedAt: load?.finished_at?.getTime() ?? 0 });
        }
        if (input.mode === 'append') v.push(...(await taggedRows(sys, input.table, loadId, o.rows, name)));
      } else if (load?.status === 'loaded') v.push(`${name}: ref.loads ${loadId} is loaded, Temporal says duplicate`);
    } else if (o.status === 'error' || o.status === 'cancelled') {
      const inError = copies.filter((c) => c.includes(`${path.sep}error${path.sep}`));
      if (inError.length === 0) v.push(`${name}: not in error/`);
      for (const c of inError) {
        const report = await fs.readFile(`${c}.error.json`, 'utf8').then((t) => JSON.parse(t) as { category?: string }, () => null);
        if (!report) v.push(`${name}: no error report beside ${path.basename(c)}`);
        else if (o.errorType && report.category !== o.errorType) v.push(`${name}: the error report says ${report.category}, Temporal says ${o.errorType}`);
      }
      if (load?.status === 'loaded') v.push(`${name}: ref.loads ${loadId} is loaded (${load.rows_committed} rows), Temporal says ${o.status}`);
    } else {
      v.push(`${name}: unexpected outcome for a file that was dropped whole`);
    }
  }

  // The ledger tells the last run of each path.
  for (const [p, ds] of byPath) {
    const last = ds[ds.length - 1].outcome;
    const [row] = await sys.sql<LedgerRow>('SELECT status, rows_loaded FROM ref.file_monitor_tracking WHERE file_path = $1 ORDER BY id DESC LIMIT 1', [p]);
    const name = `${path.basename(p)} (${last.status})`;
    if (!row) v.push(`${name}: no ledger row`);
    else {
      if (row.status !== last.status) v.push(`${name}: the ledger says ${row.status}`);
      const rows = Number(row.rows_loaded ?? 0);
      if (rows !== last.rows) v.push(`${name}: the ledger says ${rows} rows loaded, Temporal says ${last.rows}`);
    }
  }

  // The table itself.
  const loaded = [...loads.values()].sort((a, b) => a.finishedAt - b.finishedAt);
  const expected = input.mode === 'append'
    ? [...input.before, ...loaded.flatMap((l) => l.rows)]
    : (loaded.length ? loaded[loaded.length - 1].rows : input.before);
  v.push(...diffRows(await readTableRows(sys, input.table), expected));
  return v;
}
