// Deterministic phase hooks for the fault suite: the test asks a load to stop at a phase (a hold file), the worker
// says when it got there (a `.reached` file) and waits, heartbeating, until the test has injected its fault and
// removed the hold. Test-only: only the fault suite's worker entry (fault-worker.ts) installs them.
import { existsSync, writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { Database } from '../../../src/db/types';

/** Where a load can be held: in planning (before it reads the table), after its first committed batch, after the
 *  swap-in / append commit, and in archiving (file moved to processed/, ledger not yet written). */
export type HoldPhase = 'planning' | 'loading' | 'finishing' | 'archiving';

/** A hold is keyed by table name; every cell loads its own table. Date-suffixed names load the same table. */
export function tableOfFile(filePath: string): string {
  return path.basename(filePath).replace(/\.csv$/i, '').replace(/_\d{8}$/, '').toLowerCase();
}

const holdFile = (dir: string, table: string, phase: HoldPhase) => path.join(dir, `${table}.${phase}`);

export async function hold(dir: string, table: string, phase: HoldPhase): Promise<void> {
  await fs.writeFile(holdFile(dir, table, phase), '');
}

export async function release(dir: string, table: string, phase: HoldPhase): Promise<void> {
  await fs.rm(holdFile(dir, table, phase), { force: true });
}

export async function waitReached(dir: string, table: string, phase: HoldPhase, timeoutMs = 150_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(`${holdFile(dir, table, phase)}.reached`)) {
    if (Date.now() > deadline) throw new Error(`${table} did not reach ${phase} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** In the worker: stops here while the test holds this table at this phase. */
function pauseAt(dir: string, table: string, phase: HoldPhase): Promise<void> {
  return pauseWhileHeld(holdFile(dir, table, phase));
}

/** Stops while `file` exists (after saying so in `<file>.reached`), heartbeating when inside an activity. */
export async function pauseWhileHeld(file: string): Promise<void> {
  if (!existsSync(file)) return;
  writeFileSync(`${file}.reached`, '');
  while (existsSync(file)) {
    try {
      Context.current().heartbeat();
    } catch {
      // not inside an activity: nothing to keep alive
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * The worker's database with the holds in front of the calls that mark each phase. Every other call passes
 * through untouched, so the worker runs the product's own code paths.
 */
export function withHolds(db: Database, dir: string): Database {
  const tableOfLoad = new Map<string, string>();
  const hooks: Record<string, (...args: unknown[]) => Promise<unknown>> = {
    async describeTable(...args) {
      const [t] = args as [{ name: string }];
      await pauseAt(dir, t.name, 'planning');
      return (db.describeTable as (...a: unknown[]) => Promise<unknown>)(...args);
    },
    async beginLoad(...args) {
      const [input] = args as [{ loadId: string; target: { name: string } }];
      tableOfLoad.set(input.loadId, input.target.name);
      return (db.beginLoad as (...a: unknown[]) => Promise<unknown>)(...args);
    },
    async copyCsvBatch(...args) {
      const out = await (db.copyCsvBatch as (...a: unknown[]) => Promise<unknown>)(...args);
      await pauseAt(dir, tableOfLoad.get(args[0] as string) ?? '', 'loading');
      return out;
    },
    async writeBatch(...args) {
      const out = await (db.writeBatch as (...a: unknown[]) => Promise<unknown>)(...args);
      await pauseAt(dir, tableOfLoad.get(args[0] as string) ?? '', 'loading');
      return out;
    },
    async finishLoad(...args) {
      const out = await (db.finishLoad as (...a: unknown[]) => Promise<unknown>)(...args);
      await pauseAt(dir, tableOfLoad.get(args[0] as string) ?? '', 'finishing');
      return out;
    },
    async upsertTracking(...args) {
      const [update] = args as [{ filePath: string; status?: string }];
      if (update.status === 'loaded') await pauseAt(dir, tableOfFile(update.filePath), 'archiving');
      return (db.upsertTracking as (...a: unknown[]) => Promise<unknown>)(...args);
    },
  };
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && prop in hooks && typeof Reflect.get(target, prop) === 'function') return hooks[prop];
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
