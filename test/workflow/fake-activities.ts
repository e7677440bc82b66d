// In-memory stand-ins for the file activities, so workflow tests exercise only workflow logic on a real dev server.
import { ApplicationFailure } from '@temporalio/activity';
import type { buildActivities } from '../../workers/worker';
import type { LoadPlan } from '../../activities/plan';

type Activities = ReturnType<typeof buildActivities>;

export interface FakeFile {
  size: number;
  mtimeMs: number;
}

export interface FakeWorld {
  files: Map<string, FakeFile | null>;
  calls: string[];
  planError?: { message: string; type: string };
  ingestDelayMs?: number;
  finishDelayMs?: number;
  archiveDelayMs?: number;
  /** finishLoad finds the streamed hash already loaded by this load. */
  duplicateAtFinish?: string;
  /** recordFinished (the bookkeeping after a committed finish) fails this many times before it succeeds. */
  bookkeepingFailures?: number;
  /** archiveLoadedFile finds the file changed since it was loaded (the note it returns). */
  changedAfterLoad?: string;
  /** finishLoad fails (non-retryable, as after its last retry) although the load committed: abortLoad says so. */
  finishFailsAfterCommit?: boolean;
  /** ingestFile waits for this before it returns (a test decides when the load's last batch is in). */
  ingestGate?: Promise<void>;
  /** Rows ingestFile set aside in ref.invalid_records. */
  quarantined?: number;
  rows: number;
}

export function fakePlan(): LoadPlan {
  return {
    table: { schema: 'ref', name: 'airports' }, loadType: 'fullload', referenceData: true, encoding: 'utf-8', delimiter: ',', quote: '"',
    newline: '\n', hasHeader: true, preambleLines: 0, trailingDelimiter: false, copyCompatible: true, headers: ['code'], columns: [{ name: 'code', type: { kind: 'text' } }],
    fileSize: 10, fileHash: 'f'.repeat(64), duplicateOf: null, rowCountEstimate: 3, match: null,
  };
}

export function fakeActivities(world: FakeWorld): Activities {
  const note = (s: string) => world.calls.push(s);
  return {
    async registerFile() { note('registerFile'); return 1; },
    async statFile(filePath: string) { note('statFile'); return world.files.get(filePath) ?? null; },
    async forgetFile() { note('forgetFile'); },
    async archiveFile(input: { folder: string; filePath: string }) {
      note(`archiveFile:${input.folder}`);
      if (world.archiveDelayMs) await new Promise((r) => setTimeout(r, world.archiveDelayMs));
      return `/archive/${input.folder}/x.csv`; },
    // The same step as archiveFile (its call is noted alike), checking first that the file is the one loaded.
    async archiveLoadedFile() {
      note('archiveFile:processed');
      if (world.archiveDelayMs) await new Promise((r) => setTimeout(r, world.archiveDelayMs));
      return world.changedAfterLoad ? { archivedTo: null, changed: world.changedAfterLoad } : { archivedTo: '/archive/processed/x.csv', changed: null };
    },
    async writeErrorReport() { note('writeErrorReport'); return '/archive/error/x.csv.error.json'; },
    async recordOutcome(input: { status: string }) { note(`recordOutcome:${input.status}`); },
    async planLoad() {
      note('planLoad');
      if (world.planError) throw ApplicationFailure.nonRetryable(world.planError.message, world.planError.type);
      return fakePlan();
    },
    async ingestFile() {
      note('ingestFile');
      if (world.ingestDelayMs) await new Promise((r) => setTimeout(r, world.ingestDelayMs));
      if (world.ingestGate) await world.ingestGate;
      return { rows: world.rows, batches: 1, quarantined: world.quarantined ?? 0, fileHash: 'f'.repeat(64) };
    },
    async finishLoad() {
      note('finishLoad');
      if (world.finishDelayMs) await new Promise((r) => setTimeout(r, world.finishDelayMs));
      if (world.finishFailsAfterCommit) throw ApplicationFailure.nonRetryable('connection lost after the commit', 'DatabaseUnavailable');
      return { duplicateOf: world.duplicateAtFinish ?? null };
    },
    async recordFinished() {
      note('recordFinished');
      if (world.bookkeepingFailures && world.bookkeepingFailures > 0) {
        world.bookkeepingFailures -= 1;
        throw new Error('ledger unreachable');
      }
    },
    async requestIntradayDelta(input: { source: string; rows: number }) {
      note(`requestIntradayDelta:${input.source}:${input.rows}`);
      return { requested: true };
    },
    async abortLoad() {
      note('abortLoad');
      return world.finishFailsAfterCommit ? { committed: true, rows: world.rows, quarantined: 0 } : { committed: false, rows: 0, quarantined: 0 };
    },
  } as unknown as Activities;
}
