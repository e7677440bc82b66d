// File-system and ledger side effects of a dropped file: claim, stat, archive, report, record.
import type { Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Database, FileStatus, LoadMode } from '../src/db/types';
import type { Logger } from '../src/log/logger';
import { archivePath } from '../src/drop-folders';
import type { FailureType } from '../src/errors';
import { audit, activityIds } from '../src/log/audit';
import { recordFileOutcome } from '../src/metrics/registry';
import type { Notifier } from '../src/notify/notifier';
import { notifyFileFailed } from '../src/notify/events';
import { outcomeCategory } from '../src/error-analysis';
import { sha256File } from './plan';
import type { FireTrigger } from '../src/reporting/trigger-events';

export interface FileActivityDeps {
  db: Database;
  log: Logger;
  dropRoot: string;
  now?: () => Date;
  /** Operator notifications (the dashboard); none in tests that do not look. */
  notifier?: Notifier;
  /** TRIGGERED subscriptions naming this activity's events get their held deliveries released (src/reporting/trigger-events.ts). */
  fireTrigger?: FireTrigger;
}

export interface ErrorReport {
  file: string;
  originalPath: string;
  category: FailureType;
  message: string;
  details: unknown;
  workflowId: string;
  loadId: string | null;
  /** What of the file is in the table after the failure: always nothing (the load was undone), said explicitly. */
  rowsLoaded: number;
  rowsQuarantined: number;
  time: string;
}

export function createFileActivities(deps: FileActivityDeps) {
  const now = deps.now ?? (() => new Date());

  /**
   * Refuses paths that leave the drop root. A symbolic link inside it may be moved: rename moves the link itself,
   * never what it points to, so a refused link still ends in error/ beside its report.
   */
  async function assertInsideDropRoot(filePath: string): Promise<void> {
    const root = await fs.realpath(deps.dropRoot);
    const rel = path.relative(root, path.join(await fs.realpath(path.dirname(path.resolve(filePath))), path.basename(filePath)));
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      throw ApplicationFailure.nonRetryable(`${filePath} is outside the drop root ${root}`, 'UnsafePath');
    }
  }

  /** Renames into the archive folder; returns the new path, or null if there was nothing to move. */
  async function moveToArchive(filePath: string, target: string, folder: 'processed' | 'error'): Promise<string | null> {
    await fs.mkdir(path.dirname(target), { recursive: true });
    try {
      await assertInsideDropRoot(filePath);
      await fs.rename(filePath, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A retry after a rename that succeeded finds the file already moved.
      if (code === 'ENOENT') return (await exists(target)) ? target : null;
      if (err instanceof ApplicationFailure) {
        deps.log.warn({ filePath, err: err.message }, 'refusing to move a file outside the drop root');
        return null;
      }
      throw err;
    }
    audit(deps.log, `file.archived.${folder}`, { filePath, archivedTo: target });
    return target;
  }

  return {
    async registerFile(input: { filePath: string; workflowId: string; loadType: LoadMode; referenceData: boolean }): Promise<number> {
      // lstat: a symbolic link is recorded as itself (and refused at the first stat), its target is never touched.
      const st = await fs.lstat(input.filePath).catch(() => null);
      // One ledger row per drop: keyed by this run, so a re-drop adds a row and a retried claim finds its own.
      const runId = Context.current().info.workflowExecution?.runId ?? null;
      const rec = await deps.db.upsertTracking({
        runId,
        filePath: input.filePath,
        fileName: path.basename(input.filePath),
        fileSize: st?.size ?? null,
        loadType: input.loadType,
        isReferenceData: input.referenceData,
        workflowId: input.workflowId,
        status: 'waiting',
        errorMessage: null,
        processedAt: null,
      });
      audit(deps.log, 'file.claimed', { filePath: input.filePath, workflowId: input.workflowId, trackingId: rec.id, loadType: input.loadType });
      return rec.id;
    },

    async statFile(filePath: string): Promise<{ size: number; mtimeMs: number } | null> {
      const st = await fs.lstat(filePath).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      });
      if (st?.isSymbolicLink()) throw symbolicLinkRefused(filePath);
      return st && st.isFile() ? { size: st.size, mtimeMs: st.mtimeMs } : null;
    },

    /** A file that vanished before it was stable: its drop's row says so (earlier drops' rows stay as they were). */
    async forgetFile(filePath: string): Promise<void> {
      const runId = Context.current().info.workflowExecution?.runId ?? null;
      await deps.db.upsertTracking({ runId, filePath, status: 'vanished', processedAt: now() });
      audit(deps.log, 'file.vanished', { filePath, note: 'vanished before it was stable; nothing to do' });
      recordFileOutcome('vanished');
    },

    /** Moves the file into processed/ or error/; returns the new path, or null if there was nothing to move. */
    async archiveFile(input: { filePath: string; folder: 'processed' | 'error'; at: number }): Promise<string | null> {
      return moveToArchive(input.filePath, archivePath(input.filePath, input.folder, new Date(input.at)), input.folder);
    },

    /**
     * Moves a loaded (or duplicate) file into processed/, but only if it is still the version that was loaded: same
     * size and mtime as planned, or else the same SHA-256 (the same bytes written again). A file changed after its
     * rows were made visible is not the loaded file: it stays in the drop folder as a new drop (the watcher starts its
     * own run), and `changed` says what happened, for the ledger and the result.
     */
    async archiveLoadedFile(input: {
      filePath: string; at: number; loaded: { size: number; mtimeMs?: number; sha256: string | null };
    }): Promise<{ archivedTo: string | null; changed: string | null }> {
      const target = archivePath(input.filePath, 'processed', new Date(input.at));
      // A retry after a move that succeeded: whatever is at the path now is a newer drop, not this run's file.
      if (await exists(target)) return { archivedTo: target, changed: null };
      const st = await fs.lstat(input.filePath).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      });
      if (!st) return { archivedTo: null, changed: null };
      const how = await differenceFrom(input.filePath, st, input.loaded);
      if (how) {
        const changed = `${path.basename(input.filePath)} changed after its rows were loaded (${how}): the loaded version's rows stand; the changed file was left in the drop folder and is a new drop`;
        audit(deps.log, 'file.changed_after_load', { filePath: input.filePath, change: how }, 'warn');
        return { archivedTo: null, changed };
      }
      const archivedTo = await moveToArchive(input.filePath, target, 'processed');
      // Replaced between the check and the move (rare): put it back for its own run, unless a newer drop took the path.
      const moved = archivedTo ? await fs.lstat(archivedTo).catch(() => null) : null;
      if (archivedTo && moved && moved.ino !== st.ino && (await differenceFrom(archivedTo, moved, input.loaded))) {
        const back = await fs.link(archivedTo, input.filePath).then(() => fs.unlink(archivedTo)).then(() => true, () => false);
        if (back) return { archivedTo: null, changed: `${path.basename(input.filePath)} was replaced while it was archived: the loaded version's rows stand; the new file was left in the drop folder and is a new drop` };
      }
      return { archivedTo, changed: null };
    },

    async writeErrorReport(input: {
      archivedPath: string; originalPath: string; workflowId: string; loadId: string | null; type: FailureType; message: string; details: unknown;
    }): Promise<string> {
      const report: ErrorReport = {
        file: path.basename(input.originalPath),
        originalPath: input.originalPath,
        category: input.type,
        message: input.message,
        details: input.details,
        workflowId: input.workflowId,
        loadId: input.loadId,
        rowsLoaded: 0,
        rowsQuarantined: 0,
        time: now().toISOString(),
      };
      const reportPath = `${input.archivedPath}.error.json`;
      const tmp = `${reportPath}.tmp`;
      await fs.writeFile(tmp, JSON.stringify(report, null, 2));
      await fs.rename(tmp, reportPath);
      return reportPath;
    },

    async recordOutcome(input: {
      filePath: string; status: FileStatus; rowsLoaded: number; rowsQuarantined?: number; archivedTo: string | null; errorMessage?: string; errorType?: FailureType;
    }): Promise<void> {
      await deps.db.upsertTracking({
        filePath: input.filePath,
        status: input.status,
        rowsLoaded: input.rowsLoaded,
        rowsQuarantined: input.rowsQuarantined ?? 0,
        archivedPath: input.archivedTo,
        processedAt: now(),
        errorMessage: input.errorMessage ?? null,
      });
      // The category feeds error analysis (refdata errors); without errorType it is read from the error report.
      await deps.db.failures.setCategory(input.filePath, await outcomeCategory(input));
      audit(deps.log, `file.${input.status}`, { filePath: input.filePath, rows: input.rowsLoaded, quarantined: input.rowsQuarantined ?? 0, archivedTo: input.archivedTo, error: input.errorMessage }, input.status === 'error' ? 'warn' : 'info');
      recordFileOutcome(input.status);
      if (input.status === 'loaded' || input.status === 'error') await deps.fireTrigger?.(`file.${input.status}`);
      if ((input.status === 'error' || input.status === 'cancelled') && deps.notifier) {
        notifyFileFailed(deps.notifier, { ...activityIds(), filePath: input.filePath, status: input.status, message: input.errorMessage, archivedTo: input.archivedTo });
      }
    },
  };
}

/** A link could point anywhere (another user's file, a device, a file still being written): only real files load. */
export function symbolicLinkRefused(filePath: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `${path.basename(filePath)} is a symbolic link; links are refused and the link (not its target) was moved to error/. Copy the file itself into the folder`,
    'UnsafePath',
  );
}

/**
 * How the file at `filePath` differs from the version that was loaded, or null if it is that version. Size and mtime
 * as planned say so cheaply; otherwise the bytes decide, so the same content written again is still the loaded file.
 */
async function differenceFrom(filePath: string, st: Stats, loaded: { size: number; mtimeMs?: number; sha256: string | null }): Promise<string | null> {
  if (st.isSymbolicLink() || !st.isFile()) return 'it was replaced by something that is not a file';
  if (st.size !== loaded.size) return `its size went from ${loaded.size} to ${st.size} bytes`;
  if (loaded.mtimeMs === undefined || st.mtimeMs === loaded.mtimeMs) return null;
  if (!loaded.sha256) return 'it was modified';
  return (await sha256File(filePath)) === loaded.sha256 ? null : 'its content differs from the content loaded';
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(() => true, () => false);
}
