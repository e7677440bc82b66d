// Side effects of the instrument sync: download to a temporary file, stage in checkpointed batches, guard and apply.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { InstrumentsConfig } from '../src/config';
import type { Database } from '../src/db/types';
import type { StagingCheckpoint } from '../src/db/instruments';
import type { Logger } from '../src/log/logger';
import { downloadToFile, redactUrl, type DownloadOptions } from '../src/instruments/download';
import { realSourceFileIn } from '../src/instruments/source-file';
import { SourceError } from '../src/instruments/errors';
import { describeFormat } from '../src/instruments/format';
import { evaluateGuard, guardMessage } from '../src/instruments/guard';
import { openSource } from '../src/instruments/read-records';
import { stageRecords } from '../src/instruments/stage-batches';
import { summaryLine } from '../src/instruments/report';
import { announceSyncEnded } from '../src/notify/events';
import type { InstrumentSyncReport, SyncRunStatus, SyncTrigger } from '../src/instruments/types';
import type { SyncProgress, SyncSource } from '../workflows/instrument-sync';
import type { FireTrigger } from '../src/reporting/trigger-events';

export interface InstrumentActivityDeps {
  db: Database;
  log: Logger;
  config: InstrumentsConfig;
  /** Where downloads are kept between the download and the staging activity (one file per run). */
  tempDir: string;
  /** Tells the workflow how far the sync is (a signal in production); optional in tests. */
  notifyProgress?: (workflowId: string, progress: SyncProgress) => Promise<void>;
  /** Replaces the destination policy's check of a URL source's hops; tests only (to serve hop 0 from loopback). */
  checkDestination?: DownloadOptions['checkDestination'];
  /** TRIGGERED subscriptions naming this activity's events get their held deliveries released (src/reporting/trigger-events.ts). */
  fireTrigger?: FireTrigger;
}

export interface FetchedFile {
  path: string;
  bytes: number;
  sha256: string;
}

/** Source problems become non-retryable failures of our closed list; anything else is left for Temporal to retry. */
function asFailure(err: unknown): unknown {
  if (err instanceof SourceError) return ApplicationFailure.nonRetryable(err.message, err.type, { code: err.code });
  return err;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Heartbeats every few seconds while a long database statement runs, so a dead worker is noticed by its timeout. */
async function withKeepAlive<T>(work: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), 5_000);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

export function createInstrumentActivities(deps: InstrumentActivityDeps) {
  const store = deps.db.instruments;
  let lastNotice = 0;
  /** Progress signals are for people: at most one a second, never waited for, never failing the work. */
  const notify = (workflowId: string, progress: SyncProgress) => {
    if (!deps.notifyProgress || Date.now() - lastNotice < 1000) return;
    lastNotice = Date.now();
    deps.notifyProgress(workflowId, progress).catch((err: Error) => deps.log.debug({ err: err.message }, 'progress signal not delivered'));
  };
  const downloadPath = (runId: string) => path.join(deps.tempDir, `instruments-${runId}.download`);

  /**
   * Credentials go only to the configured source's origin, never to a URL someone passed in, nor to another origin a
   * redirect leads to (downloadToFile sends them to `headersOrigin` only).
   */
  function headersFor(url: string): { headers: Record<string, string>; headersOrigin?: string; sentCredentials: boolean } {
    const configured = deps.config.url ? new URL(deps.config.url).origin : null;
    if (configured === null || new URL(url).origin !== configured) return { headers: {}, sentCredentials: false };
    const headers = { ...deps.config.headers };
    if (deps.config.bearerToken) headers.authorization = `Bearer ${deps.config.bearerToken}`;
    return { headers, headersOrigin: configured, sentCredentials: Boolean(deps.config.bearerToken) || Object.keys(deps.config.headers).length > 0 };
  }

  async function fetchUrl(runId: string, workflowId: string, url: string): Promise<FetchedFile> {
    const ctx = Context.current();
    const destination = downloadPath(runId);
    // A retry after a finished download (its result lost with the worker) reuses the file: it is renamed into place only when complete.
    const done = await fs.promises.stat(destination).catch(() => null);
    if (done) return { path: destination, bytes: done.size, sha256: await sha256Of(destination) };
    await fs.promises.mkdir(deps.tempDir, { recursive: true });
    const got = await downloadToFile({
      url, ...headersFor(url), allowPrivateNetworks: deps.config.allowPrivateNetworks, checkDestination: deps.checkDestination, timeoutMs: deps.config.downloadTimeoutMs, maxBytes: deps.config.maxBytes, destination,
      signal: ctx.cancellationSignal,
      onProgress: (bytes) => {
        ctx.heartbeat({ bytes });
        notify(workflowId, { bytes, totalBytes: null, records: 0, invalid: 0, recordsPerSecond: 0 });
      },
    });
    return { path: destination, bytes: got.bytes, sha256: got.sha256 };
  }

  /** Only a file whose real path (symlinks followed) lies inside INSTRUMENTS_FILE_DIR: the API's check is not the last word. */
  async function fetchFile(file: string): Promise<FetchedFile> {
    const real = await realSourceFileIn(deps.config.fileDir, file);
    const st = await fs.promises.stat(real);
    if (!st.isFile()) throw new SourceError(`${path.relative(deps.config.fileDir, real)} in the instruments folder is not a file; nothing was changed`, 'SourceNotFound', 'NO_FILE');
    return { path: real, bytes: st.size, sha256: await sha256Of(real) };
  }

  return {
    /** Records the run, then fetches today's file: a URL to a temporary file, or a local file where it is. */
    async downloadInstruments(input: { runId: string; workflowId: string; source?: SyncSource; force: boolean; trigger: SyncTrigger }): Promise<FetchedFile> {
      const src = input.source ?? (deps.config.url ? { url: deps.config.url } : null);
      const label = src === null ? '(none)' : 'url' in src ? redactUrl(src.url) : path.resolve(src.file);
      await store.beginSyncRun({ runId: input.runId, workflowId: input.workflowId, source: label, trigger: input.trigger, forced: input.force });
      const log = deps.log.child({ workflowId: input.workflowId, runId: input.runId, source: label });
      try {
        if (src === null) throw new SourceError('no instrument source: set INSTRUMENTS_URL, or run `refdata sync --file PATH`', 'SourceNotFound', 'NO_SOURCE');
        const fetched = 'url' in src ? await fetchUrl(input.runId, input.workflowId, src.url) : await fetchFile(src.file);
        log.info({ event: 'instruments.fetched', bytes: fetched.bytes, sha256: fetched.sha256 }, 'instrument file fetched');
        return fetched;
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'instrument file not fetched');
        throw asFailure(err);
      }
    },

    /** Parses, validates and stages every record in checkpointed batches; a retry resumes after the last committed batch. */
    async stageInstruments(input: { runId: string; path: string; bytes: number; sha256: string }): Promise<{ records: number; invalid: number; duplicates: number }> {
      const ctx = Context.current();
      const { runId } = input;
      const workflowId = ctx.info.workflowExecution?.workflowId ?? runId;
      const log = deps.log.child({ workflowId, runId });
      let committed: StagingCheckpoint = await store.openStaging(runId);
      const run = await store.getSyncRun(runId);
      if (run && run.status !== 'running') return { records: run.records, invalid: run.invalid, duplicates: run.duplicates };
      if (committed.recordsRead > 0) log.info({ resumeAfter: committed.recordsRead }, 'resuming staging after the last committed batch');

      const source = await openSource(input.path, { maxDecompressedBytes: deps.config.maxBytes * 16 }).catch((err: unknown) => {
        throw asFailure(err);
      });
      await store.recordSource(runId, { format: source.format, fileBytes: input.bytes, fileSha256: input.sha256 });
      const identical = committed.recordsRead === 0 && deps.config.reuseIdenticalFile ? await store.stageAsIdentical(runId, input.sha256) : null;
      if (identical) {
        source.close();
        log.info({ event: 'instruments.identical', sameAsRunId: identical.sameAsRunId }, 'the file is the one the last successful sync applied, and nothing changed since: not staged again');
        return { records: identical.records, invalid: identical.invalid, duplicates: identical.duplicates };
      }
      log.info({ format: describeFormat(source.format, source.gzip) }, 'staging instruments');
      const started = Date.now();
      const resumedAt = committed.recordsRead;
      try {
        committed = await stageRecords(source.batches, {
          from: committed,
          batchSize: deps.config.batchSize,
          port: {
            storedVersions: (keys) => store.storedVersions(keys),
            writeBatch: (rows, invalid, expected, next) => store.writeStagingBatch(runId, rows, invalid, expected, next),
          },
          onCommitted: async (cp) => {
            const progress: SyncProgress = {
              bytes: source.bytesRead(), totalBytes: input.bytes, records: cp.recordsRead, invalid: cp.invalid,
              recordsPerSecond: Math.round((cp.recordsRead - resumedAt) / Math.max((Date.now() - started) / 1000, 0.001)),
            };
            ctx.heartbeat(progress);
            if (ctx.cancellationSignal.aborted) throw new CancelledFailure('instrument sync cancelled');
            notify(workflowId, progress);
          },
        });
      } catch (err) {
        throw asFailure(err);
      } finally {
        source.close();
      }
      if (committed.recordsRead === 0) throw ApplicationFailure.nonRetryable('the instrument file has no records; nothing was changed', 'CorruptSource', { code: 'NO_RECORDS' });
      const { duplicates, invalid: invalidTotal } = await store.finishStaging(runId);
      log.info({ event: 'instruments.staged', records: committed.recordsRead, invalid: invalidTotal, duplicates, batches: committed.batches }, 'instruments staged');
      return { records: committed.recordsRead, invalid: invalidTotal, duplicates };
    },

    /** Guard, upsert, reactivate and soft delete in one transaction; a tripped guard fails the run with nothing changed. */
    async applyInstrumentSync(input: { runId: string; force: boolean }): Promise<InstrumentSyncReport> {
      const log = deps.log.child({ runId: input.runId });
      const report = await withKeepAlive(() => store.applySync(input.runId, (g) => evaluateGuard(g, deps.config.guard, input.force)));
      if (report.status === 'guard_tripped' && report.guard) {
        log.warn({ event: 'instruments.guard_tripped', guard: report.guard }, 'instrument sync stopped by the guard');
        throw ApplicationFailure.nonRetryable(guardMessage(report.guard), 'GuardTripped', { code: 'GUARD_TRIPPED', guard: report.guard });
      }
      if (report.guard?.bypassed) log.warn({ reasons: report.guard.reasons }, 'guard bypassed by force');
      log.info({ event: 'instruments.synced', ...report, bySegment: undefined, byType: undefined }, `instrument sync: ${summaryLine(report)}`);
      announceSyncEnded(deps.log, { syncRunId: input.runId, status: 'succeeded', report });
      await deps.fireTrigger?.('sync.succeeded');
      return report;
    },

    async failInstrumentSync(input: { runId: string; status: Extract<SyncRunStatus, 'failed' | 'cancelled' | 'guard_tripped' | 'timed_out'>; message: string }): Promise<void> {
      await store.failSyncRun(input.runId, input.status, input.message);
      announceSyncEnded(deps.log, { syncRunId: input.runId, status: input.status, message: input.message });
      await deps.fireTrigger?.('sync.failed');
    },

    /** Drops the run's staging table and its downloaded file (a --file source is the operator's and stays). */
    async cleanupInstrumentSync(input: { runId: string }): Promise<void> {
      await store.dropStaging(input.runId);
      const file = downloadPath(input.runId);
      await Promise.all([fs.promises.rm(file, { force: true }), fs.promises.rm(`${file}.part`, { force: true })]);
    },
  };
}
