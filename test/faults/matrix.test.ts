// The fault matrix (docs/ingestion.md): each fault is injected into files held at every phase, for fullload and
// append, through the real system; afterwards every cell must satisfy the invariant (support/invariant.ts) and its goal.
// One round per fault: its cells run side by side, so a server-wide fault (a killed worker, a crashed database) is
// injected once for all of them; faults that belong to one file (cancel, re-drop, overwrite) act per cell.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fileWorkflowId } from '../../src/ids';
import { progressQuery } from '../../workflows/file-lifecycle';
import { faults, type Fault, type FaultId, type Goal, type Mode, type Phase } from './cells';
import { limiter, startFaultSystem, type FaultSystem } from './support/fault-system';
import { hold, release, waitReached, type HoldPhase } from './support/holds';
import { cellCsv, checkInvariant, readTableRows, type Drop } from './support/invariant';
import { privatePostgresUnavailable } from '../support/private-pg';

const ROWS = 2_000;
/** Over the 8 MiB the planner hashes up front (9.7 MB): the same-name re-drop after a load uses it. */
const BIG_ROWS = 300_000;
/** How long the database refuses connections (the issue asks 30 s; the retry schedule is the same, the suite faster). */
const REFUSE_MS = 10_000;
/** A drop that has no workflow after this long is stranded. */
const STRANDED_AFTER_MS = 25_000;
/** How long Temporal stays away in the unreachable cell: as long as the issue's database outage, well past the client's own gRPC retries (~6 s). */
const UNREACHABLE_MS = 30_000;

interface Cell {
  fault: FaultId;
  mode: Mode;
  phase: Phase;
  goal: Goal;
  table: string;
  relativePath: string;
  content: string;
}

const modes: Mode[] = ['fullload', 'append'];
const short: Record<Phase, string> = { drop: 'd', waiting: 'w', planning: 'p', loading: 'l', finishing: 'f', archiving: 'a', done: 'x' };

function cellsOf(fault: Fault): Cell[] {
  return modes.flatMap((mode) => (Object.entries(fault.cells) as [Phase, Goal][]).map(([phase, goal]) => {
    const table = `fm_${fault.id.replace(/-/g, '_')}_${mode === 'fullload' ? 'f' : 'a'}_${short[phase]}`;
    const rows = fault.id === 'redrop-same' && phase === 'done' ? BIG_ROWS : ROWS;
    return { fault: fault.id, mode, phase, goal, table, relativePath: `none_reference_data_table/${mode}/${table}.csv`, content: cellCsv('v1', rows) };
  }));
}

const cellName = (c: Cell) => `${c.mode} × ${c.phase}`;
const isHold = (p: Phase): p is HoldPhase => p === 'planning' || p === 'loading' || p === 'finishing' || p === 'archiving';

let sys: FaultSystem;
const skip = privatePostgresUnavailable();

/** Each cell's table as it was before the cell, by table name. */
let before: Map<string, string[]>;
/** Each cell's violations, by fault and cell; written to .refdata/fault-matrix-results.json at the end. */
const allResults: Record<string, Record<string, string[]>> = {};

beforeAll(async () => {
  if (skip) return;
  sys = await startFaultSystem({ workflowBundlePath: inject('workflowBundlePath') });
  await sys.startWorker();
  before = await seed(faults.flatMap(cellsOf));
}, 300_000);

afterAll(async () => {
  await sys?.stop();
  if (Object.keys(allResults).length) {
    const out = path.resolve(__dirname, '../../.refdata/fault-matrix-results.json');
    await fs.mkdir(path.dirname(out), { recursive: true });
    await fs.writeFile(out, `${JSON.stringify(allResults, null, 2)}\n`);
  }
});

/** What each table holds before its cell: a small earlier load of the same table (another file name, same table). */
async function seed(cells: Cell[]): Promise<Map<string, string[]>> {
  const slot = limiter(20);
  await Promise.all(cells.map((c) => slot(async () => {
    const since = Date.now();
    const seedPath = c.relativePath.replace(/\.csv$/, '_20240101.csv');
    await sys.drop(seedPath, cellCsv('seed', 5, 900_000));
    const o = await sys.outcomeOf(seedPath, since);
    if (o.status !== 'loaded') throw new Error(`seeding ${c.table} ended ${o.status}: ${o.message}`);
  })));
  return new Map(await Promise.all(cells.map(async (c) => [c.table, await readTableRows(sys, c.table)] as const)));
}

async function waitInStabilityWait(c: Cell): Promise<void> {
  const handle = sys.client.workflow.getHandle(fileWorkflowId(c.relativePath));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const p = await handle.query(progressQuery).catch(() => null);
    if (p?.phase === 'waiting') return;
    if (p) throw new Error(`${c.table} left the stability wait before the fault (${p.phase})`);
    if (Date.now() > deadline) throw new Error(`${c.table} never showed its stability wait`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Drops each cell's file and brings it to its phase (held there); returns when all are in place. */
async function bringToPhase(cells: Cell[]): Promise<{ droppedAt: Map<Cell, number>; runs: Map<Cell, string>; broken: Map<Cell, string> }> {
  const droppedAt = new Map<Cell, number>();
  const runs = new Map<Cell, string>();
  // A cell that cannot be brought to its phase fails alone, with the reason; the round goes on with the others.
  const broken = new Map<Cell, string>();
  const prepare = (c: Cell, steps: () => Promise<void>) => steps().catch((err: Error) => void broken.set(c, `could not bring the file to ${c.phase}: ${err.message}`));
  // Held phases first: they take the stability wait and more to reach; the stability-wait cells come last.
  await Promise.all(cells.filter((c) => c.phase !== 'waiting' && c.phase !== 'drop').map((c) => prepare(c, async () => {
    if (isHold(c.phase)) await hold(sys.holdDir, c.table, c.phase);
    droppedAt.set(c, Date.now());
    await sys.drop(c.relativePath, c.content);
    if (isHold(c.phase)) await waitReached(sys.holdDir, c.table, c.phase);
    runs.set(c, await sys.runOf(c.relativePath, droppedAt.get(c)!));
    if (c.phase === 'done') await sys.outcomeOf(c.relativePath, droppedAt.get(c)!, 120_000, runs.get(c));
  })));
  await Promise.all(cells.filter((c) => c.phase === 'waiting').map((c) => prepare(c, async () => {
    droppedAt.set(c, Date.now());
    await sys.drop(c.relativePath, c.content);
    runs.set(c, await sys.runOf(c.relativePath, droppedAt.get(c)!));
    await waitInStabilityWait(c);
  })));
  return { droppedAt, runs, broken };
}

async function releaseAll(cells: Cell[]): Promise<void> {
  await Promise.all(cells.filter((c) => isHold(c.phase)).map((c) => release(sys.holdDir, c.table, c.phase as HoldPhase)));
}

/** A second drop a fault made: its path, when, and the bytes it put there. */
interface Second { relativePath: string; at: number; content: string }

/**
 * A file's own fault, injected while it is held; returns the second drop it made, if any. A file changed in place is
 * one: the run merges it (loads the changed version, or fails and archives it) or leaves it for a run of its own.
 */
async function injectLocal(c: Cell): Promise<{ second?: Second }> {
  const file = path.join(sys.dropRoot, c.relativePath);
  switch (c.fault) {
    case 'cancel': {
      let row: { id: number } | undefined;
      // Up to a minute: under load the run can take seconds to register its ledger row.
      for (let i = 0; i < 1_200 && !row; i++) {
        [row] = await sys.sql<{ id: number }>('SELECT id FROM ref.file_monitor_tracking WHERE file_path = $1 ORDER BY id DESC LIMIT 1', [file]);
        if (!row) await new Promise((r) => setTimeout(r, 50));
      }
      if (!row) throw new Error(`${c.table} has no ledger row to cancel`);
      const res = await sys.api.inject({ method: 'POST', url: `/api/v1/files/${row.id}/cancel`, headers: { authorization: `Bearer ${sys.adminKey}` } });
      // Once finishing has started the API says so (409 TOO_LATE) rather than "cancelling": the run goes to its end.
      const tooLate = res.statusCode === 409 && (res.json() as { error?: { code?: string } }).error?.code === 'TOO_LATE';
      if (tooLate && c.phase !== 'finishing' && c.phase !== 'archiving') throw new Error(`cancel of ${c.table} in ${c.phase} answered TOO_LATE: ${res.body}`);
      if (res.statusCode !== 202 && !tooLate) throw new Error(`cancel of ${c.table} answered ${res.statusCode}: ${res.body}`);
      return {};
    }
    case 'redrop-same': {
      const at = Date.now();
      await sys.drop(c.relativePath, c.content);
      return { second: { relativePath: c.relativePath, at, content: c.content } };
    }
    case 'redrop-other': {
      const other = c.relativePath.replace(/\.csv$/, '_20250102.csv');
      const at = Date.now();
      await sys.drop(other, c.content);
      return { second: { relativePath: other, at, content: c.content } };
    }
    case 'overwrite': {
      const at = Date.now();
      const content = cellCsv('v2', ROWS, 500);
      await fs.writeFile(file, content);
      return { second: { relativePath: c.relativePath, at, content } };
    }
    case 'truncate': {
      const lines = c.content.split('\n');
      const content = lines.slice(0, Math.floor(lines.length * 0.4)).join('\n') + '\n';
      const at = Date.now();
      await fs.truncate(file, Buffer.byteLength(content));
      return { second: { relativePath: c.relativePath, at, content } };
    }
    default:
      return {};
  }
}

/** The cell's goal, beyond the invariant. */
function goalViolations(c: Cell, drops: Drop[]): string[] {
  const first = drops[0].outcome;
  const out: string[] = [];
  switch (c.goal) {
    case 'loaded':
      if (first.status !== 'loaded') out.push(`goal: loaded, got ${first.status}${first.message ? ` (${first.message})` : ''}`);
      break;
    case 'cancelled':
      if (first.status !== 'cancelled') out.push(`goal: cancelled, got ${first.status}`);
      break;
    case 'loaded-or-cancelled':
      if (first.status !== 'loaded' && first.status !== 'cancelled') out.push(`goal: loaded or cancelled, got ${first.status}`);
      break;
    case 'once': {
      const runs = new Map(drops.filter((d) => d.outcome.runId).map((d) => [d.outcome.runId, d.outcome] as const));
      const loaded = [...runs.values()].filter((o) => o.status === 'loaded').length;
      // Two names race while both wait: either may finish first and load, the other is then its duplicate.
      if (c.fault === 'redrop-other') {
        if (loaded < 1) out.push(`goal: one of the two drops loaded, got ${[...runs.values()].map((o) => o.status).join(', ')}`);
      } else if (first.status !== 'loaded') out.push(`goal: the first drop loaded, got ${first.status}`);
      if (loaded > 1 && c.mode === 'append') out.push(`goal: the content appended once, ${loaded} runs loaded it`);
      break;
    }
    case 'one-version':
      // Which version, and whether it failed instead, is the invariant's to judge (the archived copy is the truth).
      if (first.status !== 'loaded' && first.status !== 'error') out.push(`goal: loaded or failed, got ${first.status}`);
      break;
  }
  return out;
}

async function runRound(fault: Fault): Promise<Map<string, string[]>> {
  const cells = cellsOf(fault);
  const results = new Map<string, string[]>();
  const seconds = new Map<Cell, Second>();
  let droppedAt = new Map<Cell, number>();
  let runs = new Map<Cell, string>();
  let broken = new Map<Cell, string>();

  if (fault.id === 'temporal-unreachable') {
    await sys.temporal.kill();
    for (const c of cells) droppedAt.set(c, Date.now());
    await Promise.all(cells.map((c) => sys.drop(c.relativePath, c.content)));
    await new Promise((r) => setTimeout(r, UNREACHABLE_MS)); // the watcher has seen the files and failed to reach Temporal
    await sys.temporal.start();
  } else {
    ({ droppedAt, runs, broken } = await bringToPhase(cells));
    switch (fault.id) {
      case 'worker-kill':
        await sys.killWorker();
        await releaseAll(cells);
        await sys.startWorker();
        break;
      case 'pg-crash':
        await sys.pg.restart('immediate');
        await releaseAll(cells);
        break;
      case 'pg-refusing':
        await sys.pg.halt('fast');
        await releaseAll(cells);
        await new Promise((r) => setTimeout(r, REFUSE_MS));
        await sys.pg.resume();
        break;
      case 'temporal-kill':
        await sys.temporal.kill();
        await releaseAll(cells);
        await sys.temporal.start();
        break;
      default:
        await Promise.all(cells.filter((c) => !broken.has(c)).map(async (c) => {
          try {
            const { second } = await injectLocal(c);
            if (second) seconds.set(c, second);
          } catch (err) {
            broken.set(c, `could not inject the fault: ${(err as Error).message}`);
          }
          if (isHold(c.phase)) await release(sys.holdDir, c.table, c.phase);
        }));
    }
  }

  await Promise.all(cells.map(async (c) => {
    const brokenBy = broken.get(c);
    if (brokenBy) {
      if (isHold(c.phase)) await release(sys.holdDir, c.table, c.phase);
      results.set(cellName(c), [brokenBy]);
      return;
    }
    try {
      const file = path.join(sys.dropRoot, c.relativePath);
      const timeout = fault.id === 'temporal-unreachable' ? STRANDED_AFTER_MS : 240_000;
      const drops: Drop[] = [{ path: file, outcome: await sys.outcomeOf(c.relativePath, droppedAt.get(c)!, timeout, runs.get(c)), content: c.content }];
      const second = seconds.get(c);
      if (second) {
        // A second drop under the same name that the running run archived merged into it; any other needs a run.
        const secondPath = path.join(sys.dropRoot, second.relativePath);
        const merged = second.relativePath === c.relativePath && !(await fs.access(secondPath).then(() => true, () => false));
        drops.push({ path: secondPath, outcome: merged ? drops[0].outcome : await sys.outcomeOf(second.relativePath, second.at, STRANDED_AFTER_MS), content: second.content });
      }
      const violations = [...goalViolations(c, drops), ...(await checkInvariant(sys, { table: c.table, mode: c.mode, before: before.get(c.table)!, drops }))];
      results.set(cellName(c), violations);
    } catch (err) {
      results.set(cellName(c), [`the cell could not complete: ${(err as Error).message}`]);
    }
  }));
  return results;
}

describe.skipIf(skip)('the invariant check itself', () => {
  it('sees a missing row, a doubled row, a ledger that disagrees and a file left behind', async () => {
    const rel = 'none_reference_data_table/append/fm_control.csv';
    const since = Date.now();
    await sys.drop(rel, cellCsv('v1', 50));
    const outcome = await sys.outcomeOf(rel, since);
    const file = path.join(sys.dropRoot, rel);
    const input = { table: 'fm_control', mode: 'append' as const, before: [], drops: [{ path: file, outcome }] };
    expect(outcome.status).toBe('loaded');
    expect(await checkInvariant(sys, input)).toEqual([]);

    await sys.sql(`DELETE FROM data.fm_control WHERE id = 'R000007'`);
    await sys.sql(`INSERT INTO data.fm_control SELECT * FROM data.fm_control WHERE id = 'R000009'`);
    await sys.sql(`UPDATE ref.file_monitor_tracking SET rows_loaded = 49 WHERE file_path = $1`, [file]);
    await fs.writeFile(file, 'left behind');
    const violations = await checkInvariant(sys, input);
    expect(violations).toEqual(expect.arrayContaining([
      expect.stringMatching(/table lacks 1 expected rows \(e\.g\. R000007\|/),
      expect.stringMatching(/table has 1 rows too many or unexpected \(e\.g\. R000009\|/),
      expect.stringMatching(/the ledger says 49 rows loaded, Temporal says 50/),
      expect.stringMatching(/still in the drop folder/),
    ]));
    await fs.rm(file);
  });
});

/** Faults that touch one file only: their rounds run side by side (server-wide faults run alone, one at a time). */
const perFile: FaultId[] = ['cancel', 'redrop-same', 'redrop-other', 'overwrite', 'truncate'];
let perFileRounds: Promise<Map<FaultId, Map<string, string[]>>> | null = null;

function roundOf(fault: Fault): Promise<Map<string, string[]>> {
  if (!perFile.includes(fault.id)) return runRound(fault);
  perFileRounds ??= Promise.all(faults.filter((f) => perFile.includes(f.id)).map(async (f) => [f.id, await runRound(f)] as const)).then((r) => new Map(r));
  return perFileRounds.then((r) => r.get(fault.id)!);
}

/**
 * Cells whose defect is still open (docs/ingestion.md, "Open cells"). They still run in their round and their
 * violations are still written to .refdata/fault-matrix-results.json; only their assertion is skipped, saying why.
 */
const OPEN_CELLS: Record<string, string> = {};

for (const fault of faults) {
  describe.skipIf(skip)(`fault: ${fault.title}`, () => {
    let results: Map<string, string[]>;
    beforeAll(async () => {
      results = await roundOf(fault);
      allResults[fault.id] = Object.fromEntries(results);
    }, 420_000);
    for (const c of cellsOf(fault)) {
      const open = OPEN_CELLS[`${fault.id}|${cellName(c)}`];
      it.skipIf(Boolean(open))(`${cellName(c)}: ${c.goal}, and the table, ledger, ref.loads, report, Temporal and folder agree${open ? ` (OPEN: ${open})` : ''}`, () => {
        expect(results.get(cellName(c))).toEqual([]);
      });
    }
  });
}

