// Workflow `fileLifecycle`: one dropped file from "seen" to "loaded and archived" (or "in error/ with a report").
import {
  ApplicationFailure, CancellationScope, CancelledFailure, condition, defineQuery, defineSignal, isCancellation, proxyActivities,
  patched, setHandler, sleep, workflowInfo, upsertSearchAttributes, setCurrentDetails,
} from '@temporalio/workflow';
import type { createFileActivities } from '../activities/files';
import type { createPlanActivities } from '../activities/plan';
import type { createIngestActivities } from '../activities/ingest';
import type { createIntradayActivities } from '../activities/intraday';
import type { LoadPlan } from '../activities/plan';
import type { LoadMode } from '../src/db/types';
import { isFailureType, type FailureType } from '../src/errors';
import { searchAttributes } from '../src/ids';

type FileActivities = ReturnType<typeof createFileActivities>;
type PlanActivities = ReturnType<typeof createPlanActivities>;
type IngestActivities = ReturnType<typeof createIngestActivities>;

export interface StabilityOptions {
  checks: number;
  intervalMs: number;
  maxWaitMs: number;
}

export interface FileLifecycleInput {
  filePath: string;
  relativePath: string;
  referenceData: boolean;
  loadType: LoadMode;
  stability: StabilityOptions;
  /** `refdata load FILE` runs a file now, without the stability wait. */
  skipStability?: boolean;
  /** How long the loader may go silent before it is presumed dead and retried (default 1 minute). */
  ingestHeartbeatTimeoutMs?: number;
}

export type FileOutcome = 'loaded' | 'error' | 'cancelled' | 'vanished' | 'duplicate';

export interface FileLifecycleResult {
  status: FileOutcome;
  table: string | null;
  /** Rows now in the table from this file (quarantined rows excluded). */
  rows: number;
  /** Invalid rows set aside in ref.invalid_records instead of loaded. */
  quarantined: number;
  loadId: string | null;
  archivedTo: string | null;
  error: { type: FailureType; message: string } | null;
  /** Something the operator should know about a run that still ended as its status says (e.g. the file changed after its load committed). */
  note?: string;
}

export type Phase = 'waiting' | 'planning' | 'loading' | 'finishing' | 'archiving' | 'compensating' | 'done';

export interface FileProgress {
  phase: Phase;
  stableChecks: number;
  requiredChecks: number;
  table: string | null;
  loadId: string | null;
  rows: number;
  bytes: number;
  totalBytes: number | null;
  batches: number;
  rowsPerSecond: number;
  outcome: FileOutcome | null;
}

export interface IngestProgress {
  rows: number;
  bytes: number;
  batches: number;
  rowsPerSecond: number;
}

export const fileChangedSignal = defineSignal('fileChanged');
/**
 * The file was put in place whole (an API upload, renamed in): stop waiting for it to settle. Sent with
 * signal-with-start, so a run the watcher started first for the same file skips the rest of its wait too.
 */
export const loadNowSignal = defineSignal('loadNow');
export const ingestProgressSignal = defineSignal<[IngestProgress]>('ingestProgress');
export const progressQuery = defineQuery<FileProgress>('progress');

const files = proxyActivities<FileActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});
// A killed worker's planning attempt is retried after this silence instead of after its whole start-to-close
// timeout; planLoad heartbeats while it reads. Changing an activity's options changes no command, so no patch.
const planning = proxyActivities<PlanActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});
/** Idempotent writes after a committed finish: retried without a limit, since giving up would contradict the table. */
const bookkeeping = proxyActivities<IngestActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
function ingestActivities(heartbeatTimeoutMs = 60_000) {
  return proxyActivities<IngestActivities>({
    startToCloseTimeout: '12 hours',
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 20 },
  });
}
/** Asking for an intraday delta is a signal: quick, retried a little, never failing the load. */
const intraday = proxyActivities<ReturnType<typeof createIntradayActivities>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});
const cleanup = proxyActivities<IngestActivities & FileActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export async function fileLifecycle(input: FileLifecycleInput): Promise<FileLifecycleResult> {
  const progress: FileProgress = {
    phase: 'waiting', stableChecks: 0, requiredChecks: input.stability.checks, table: null, loadId: null,
    rows: 0, bytes: 0, totalBytes: null, batches: 0, rowsPerSecond: 0, outcome: null,
  };
  let changed = false;
  let loadNow = false;
  setHandler(progressQuery, () => progress);
  setHandler(fileChangedSignal, () => {
    changed = true;
  });
  setHandler(loadNowSignal, () => {
    loadNow = true;
  });
  setHandler(ingestProgressSignal, (p) => {
    Object.assign(progress, p);
    enter(progress, progress.phase);
  });

  const loadId = `load_${workflowInfo().runId}`;
  const ingest = ingestActivities(input.ingestHeartbeatTimeoutMs);
  await files.registerFile({ filePath: input.filePath, workflowId: workflowInfo().workflowId, loadType: input.loadType, referenceData: input.referenceData });

  try {
    if (!input.skipStability) {
      const stable = await waitUntilStable(input, progress, () => {
        const was = changed;
        changed = false;
        return was;
      }, () => loadNow);
      if (!stable) {
        await files.forgetFile(input.filePath);
        return finish(progress, { status: 'vanished', table: null, rows: 0, quarantined: 0, loadId: null, archivedTo: null, error: null });
      }
    }

    enter(progress, 'planning');
    const plan = await planning.planLoad({ filePath: input.filePath, loadType: input.loadType, referenceData: input.referenceData });
    progress.table = plan.table.name;
    progress.totalBytes = plan.fileSize;
    upsertSearchAttributes([{ key: searchAttributes.TableName, value: plan.table.name }]);
    if (plan.duplicateOf) return await archiveDuplicate(input, progress, plan, plan.duplicateOf, plan.fileHash);

    enter(progress, 'loading');
    progress.loadId = loadId;
    const loaded = await ingest.ingestFile({ loadId, filePath: input.filePath, plan, workflowId: workflowInfo().workflowId });
    progress.rows = loaded.rows;
    // A cancel that came with the last batch's result (one workflow task) is still a cancel before finishing: honour
    // it (nothing is visible yet) instead of finishing past it. Patched only on this path, so other runs replay as before.
    if (CancellationScope.current().consideredCancelled && patched('cancel-with-the-last-batch-honoured')) {
      throw new CancelledFailure('cancelled by an operator before finishing started');
    }

    enter(progress, 'finishing');
    if (patched('finishing-runs-to-the-end')) {
      // From here the swap or append may commit at any moment: a cancel must not undo the record of it, so finishing
      // and archiving complete and the run says `loaded` (or undoes a duplicate / changed file itself).
      return await CancellationScope.nonCancellable(() => finishAndArchive(input, progress, plan, loadId, loaded));
    }
    await ingest.finishLoad({ loadId, plan, filePath: input.filePath, fileHash: loaded.fileHash });

    enter(progress, 'archiving');
    const archivedTo = await files.archiveFile({ filePath: input.filePath, folder: 'processed', at: Date.now() });
    await files.recordOutcome({ filePath: input.filePath, status: 'loaded', rowsLoaded: loaded.rows, archivedTo });
    return finish(progress, { status: 'loaded', table: plan.table.name, rows: loaded.rows, quarantined: loaded.quarantined ?? 0, loadId, archivedTo, error: null });
  } catch (err) {
    const cancelled = isCancellation(err);
    const failure = describeFailure(err, cancelled);
    enter(progress, 'compensating');
    // Cleanup must run even though the workflow itself was cancelled.
    let committed: { rows: number; quarantined: number } | null = null;
    const archivedTo = await CancellationScope.nonCancellable(async () => {
      const undone = await cleanup.abortLoad({ loadId });
      if (undone?.committed && patched('committed-load-ends-loaded')) {
        // A finish committed and then failed to answer through every retry: the rows are in the table, so the run
        // says loaded and the file goes to processed/, never `error` with 0 rows over a table that holds them.
        committed = undone;
        enter(progress, 'archiving');
        const to = await cleanup.archiveFile({ filePath: input.filePath, folder: 'processed', at: Date.now() });
        await cleanup.recordOutcome({ filePath: input.filePath, status: 'loaded', rowsLoaded: undone.rows, archivedTo: to });
        return to;
      }
      const to = await cleanup.archiveFile({ filePath: input.filePath, folder: 'error', at: Date.now() });
      if (to) {
        await cleanup.writeErrorReport({ archivedPath: to, originalPath: input.filePath, workflowId: workflowInfo().workflowId, loadId, ...failure });
      }
      await cleanup.recordOutcome({ filePath: input.filePath, status: cancelled ? 'cancelled' : 'error', rowsLoaded: 0, archivedTo: to, errorMessage: failure.message, errorType: failure.type });
      return to;
    });
    if (committed) {
      const { rows, quarantined } = committed;
      return finish(progress, { status: 'loaded', table: progress.table, rows, quarantined, loadId, archivedTo, error: null });
    }
    finish(progress, { status: cancelled ? 'cancelled' : 'error', table: progress.table, rows: 0, quarantined: 0, loadId, archivedTo, error: failure });
    if (cancelled) throw err;
    throw ApplicationFailure.create({ message: failure.message, type: failure.type, nonRetryable: true, details: [failure] });
  }
}

/**
 * Makes the load visible and archives the file. The activity checks first that the file is still the one planned
 * and that its (streamed) hash is not already loaded into the table; a duplicate is undone and archived as such.
 */
async function finishAndArchive(
  input: FileLifecycleInput, progress: FileProgress, plan: LoadPlan, loadId: string, loaded: { rows: number; quarantined?: number; fileHash: string },
): Promise<FileLifecycleResult> {
  const finishing = ingestActivities(input.ingestHeartbeatTimeoutMs);
  // The bookkeeping after the commit runs as its own activity, retried until it succeeds: once the rows are in the
  // table, a ledger write that keeps failing must not end the run in `error` with 0 rows.
  const apart = patched('finish-bookkeeping-retried-apart');
  // The counts the ingest reported let finishing see a checkpoint that a database crash set back (activity input only:
  // no command changes, old histories replay).
  const ingested = { rows: loaded.rows, quarantined: loaded.quarantined ?? 0 };
  const finished = await finishing.finishLoad({ loadId, plan, filePath: input.filePath, fileHash: loaded.fileHash, ingested, ...(apart ? { bookkeeping: false } : {}) });
  if (finished?.duplicateOf) {
    await finishing.abortLoad({ loadId });
    return archiveDuplicate(input, progress, plan, finished.duplicateOf, loaded.fileHash);
  }
  if (apart) await bookkeeping.recordFinished({ loadId, plan, filePath: input.filePath, fileHash: loaded.fileHash });
  const quarantined = loaded.quarantined ?? 0;
  enter(progress, 'archiving');
  const { archivedTo, note } = await archiveLoaded(input, plan, loaded.fileHash);
  await files.recordOutcome({ filePath: input.filePath, status: 'loaded', rowsLoaded: loaded.rows, rowsQuarantined: quarantined, archivedTo, ...(note ? { errorMessage: note } : {}) });
  await requestIntradayDelta(input, loadId, quarantined);
  return finish(progress, { status: 'loaded', table: plan.table.name, rows: loaded.rows, quarantined, loadId, archivedTo, error: null, ...(note ? { note } : {}) });
}

/**
 * Of a reference-data load, the intraday delta covers the rows it set aside in ref.invalid_records (its invalid
 * file); the loaded table itself goes out in the nightly full set. A load that set none aside asks for nothing, and
 * a failed request leaves the load as it is (the next delta or the nightly run covers those rows).
 */
async function requestIntradayDelta(input: FileLifecycleInput, loadId: string, quarantined: number): Promise<void> {
  if (!input.referenceData || quarantined <= 0 || !patched('load-requests-intraday-delta')) return;
  try {
    await intraday.requestIntradayDelta({ source: 'file-load', ref: loadId, rows: quarantined });
  } catch {
    // See above: the load stands.
  }
}

/**
 * Archives the file as the one whose content was loaded (or found a duplicate). A file changed since is not that
 * file: it is left in the drop folder as a new drop, and `note` says so. Older histories archived without checking.
 */
async function archiveLoaded(input: FileLifecycleInput, plan: LoadPlan, fileHash: string | null): Promise<{ archivedTo: string | null; note: string | null }> {
  const at = Date.now();
  if (!patched('archive-checks-the-loaded-version')) {
    return { archivedTo: await files.archiveFile({ filePath: input.filePath, folder: 'processed', at }), note: null };
  }
  const loaded = { size: plan.fileSize, mtimeMs: plan.fileMtimeMs, sha256: fileHash };
  const archived = await files.archiveLoadedFile({ filePath: input.filePath, at, loaded });
  return { archivedTo: archived.archivedTo, note: archived.changed };
}

/** The same content is already in this table: archive it without loading, and say which load has it. */
async function archiveDuplicate(
  input: FileLifecycleInput, progress: FileProgress, plan: LoadPlan, duplicateOf: string, fileHash: string | null,
): Promise<FileLifecycleResult> {
  enter(progress, 'archiving');
  const { archivedTo, note } = await archiveLoaded(input, plan, fileHash);
  const said = `same content as load ${duplicateOf}; not loaded again`;
  await files.recordOutcome({ filePath: input.filePath, status: 'duplicate', rowsLoaded: 0, archivedTo, errorMessage: note ? `${said}. ${note}` : said });
  return finish(progress, { status: 'duplicate', table: plan.table.name, rows: 0, quarantined: 0, loadId: duplicateOf, archivedTo, error: null, ...(note ? { note } : {}) });
}

/**
 * Stats the file until it is unchanged for `checks` intervals in a row (or a `loadNow` signal says it was placed
 * whole); false if it vanished.
 */
async function waitUntilStable(
  input: FileLifecycleInput, progress: FileProgress, takeChangedFlag: () => boolean, isLoadNow: () => boolean,
): Promise<boolean> {
  const { checks, intervalMs, maxWaitMs } = input.stability;
  const startedAt = Date.now();
  // Histories from before the signal existed slept plainly; only new runs may end a wait early.
  const mayLoadNow = patched('load-now-ends-stability-wait');
  let last = await files.statFile(input.filePath);
  // The watcher starts a run with signal-with-start, so a fileChanged signal is already waiting: the first stat
  // above is newer than it, and it must not reset the first check (that made 7 intervals out of 6).
  if (patched('stability-start-signal-counted-once')) takeChangedFlag();
  while (last !== null && progress.stableChecks < checks) {
    if (mayLoadNow && isLoadNow()) break;
    if (Date.now() - startedAt > maxWaitMs) {
      throw ApplicationFailure.nonRetryable(
        `file was still changing after ${Math.round(maxWaitMs / 1000)} s; finish writing it elsewhere and move it in whole`,
        'UnstableFile',
      );
    }
    if (mayLoadNow) {
      if (intervalMs > 0 && (await condition(isLoadNow, intervalMs))) break;
    } else if (intervalMs > 0) await sleep(intervalMs);
    const next = await files.statFile(input.filePath);
    const unchanged = next !== null && next.size === last.size && next.mtimeMs === last.mtimeMs;
    progress.stableChecks = unchanged && !takeChangedFlag() ? progress.stableChecks + 1 : 0;
    last = next;
  }
  return last !== null;
}

function describeFailure(err: unknown, cancelled: boolean): { type: FailureType; message: string; details: unknown } {
  if (cancelled) return { type: 'Cancelled', message: 'cancelled by an operator; nothing of this file was kept', details: null };
  let cause: unknown = err;
  // Activity failures wrap the ApplicationFailure that carries our type.
  while (cause instanceof Error && !(cause instanceof ApplicationFailure) && (cause as { cause?: unknown }).cause) {
    cause = (cause as { cause?: unknown }).cause;
  }
  if (cause instanceof ApplicationFailure) {
    const type: FailureType = isFailureType(cause.type) ? cause.type : 'Internal';
    return { type, message: cause.message, details: cause.details?.[0] ?? null };
  }
  return { type: 'Internal', message: err instanceof Error ? err.message : String(err), details: null };
}

/** Moves to a phase and says so on the run's page in the Temporal Web UI. */
function enter(progress: FileProgress, phase: Phase): void {
  progress.phase = phase;
  const table = progress.table ? ` into \`${progress.table}\`` : '';
  setCurrentDetails(`**${phase}**${table}; rows so far: ${progress.rows}`);
}

function finish(progress: FileProgress, result: FileLifecycleResult): FileLifecycleResult {
  progress.phase = 'done';
  setCurrentDetails(`**${result.status}**; rows: ${result.rows}${result.archivedTo ? `; archived to ${result.archivedTo}` : ''}`);
  progress.outcome = result.status;
  return result;
}
