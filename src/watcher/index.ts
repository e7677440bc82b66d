// The drop-folder watcher: one workflow per dropped file (signal-with-start); a start Temporal refused is retried with
// backoff, and the leaf folders are rescanned at start and periodically, so no file is stranded by an outage.
import { setMaxListeners } from 'node:events';
import fs from 'node:fs/promises';
import path from 'node:path';
import chokidar, { type FSWatcher } from 'chokidar';
import type { Client } from '@temporalio/client';
import type { Logger } from '../log/logger';
import { dropFolderTree, classifyPath, archiveFolders, dataKinds, loadModes } from '../drop-folders';
import { signalFileWorkflow, startFileWorkflowIfIdle } from '../temporal/client';
import type { StabilityOptions } from '../../workflows/file-lifecycle';

export interface WatcherDeps {
  client: Client;
  dropRoot: string;
  stability: StabilityOptions;
  log: Logger;
  /** Polling for file systems without change events (network shares, some containers). */
  usePolling?: boolean;
  /** How often every leaf folder is listed again to start a workflow for any file without one (default 60 s). */
  rescanIntervalMs?: number;
  /** Backoff between attempts to reach Temporal for one file: first delay and cap (default 1 s, doubling to 60 s). */
  retry?: { initialMs: number; maxMs: number };
}

export async function ensureDropFolders(dropRoot: string): Promise<void> {
  for (const dir of dropFolderTree()) await fs.mkdir(path.join(dropRoot, dir), { recursive: true });
}

export async function startWatcher(deps: WatcherDeps): Promise<{ close(): Promise<void> }> {
  const root = path.resolve(deps.dropRoot);
  await ensureDropFolders(root);
  const log = deps.log.child({ component: 'watcher' });

  const retryPolicy = deps.retry ?? { initialMs: 1_000, maxMs: 60_000 };
  const retries = new Map<string, NodeJS.Timeout>();
  let closed = false;

  /** Tries again later while the file is still there; the periodic rescan is the backstop if this is lost too. */
  const retryLater = (filePath: string, delayMs: number) => {
    if (closed || retries.has(filePath)) return;
    const timer = setTimeout(() => {
      retries.delete(filePath);
      void fs.lstat(filePath).then(
        () => startIfIdle(filePath, Math.min(delayMs * 2, retryPolicy.maxMs)),
        () => undefined,
      );
    }, delayMs);
    timer.unref();
    retries.set(filePath, timer);
  };

  /** Starts the file's workflow unless one runs for its path (a retry or a rescan must not reset its wait). */
  const startIfIdle = async (filePath: string, nextDelayMs: number): Promise<void> => {
    try {
      const res = await startFileWorkflowIfIdle(deps.client, { dropRoot: root, filePath, stability: deps.stability });
      if ('workflowId' in res) log.info({ event: 'watch.started', filePath, workflowId: res.workflowId }, 'file workflow started or already running');
    } catch (err) {
      log.warn({ filePath, err: (err as Error).message, retryInMs: nextDelayMs }, 'could not reach Temporal for a dropped file; will try again');
      retryLater(filePath, nextDelayMs);
    }
  };

  /**
   * A drop whose event reached a run still busy with the file before it (a same-name re-drop while it archives, a
   * file changed after its load committed) only signalled that run. Once the run ends, the file still at the path is
   * a new drop: start its run then, rather than at the next rescan. One follower per path, for its latest run.
   */
  const following = new Map<string, string>();
  const abort = new AbortController();
  setMaxListeners(0, abort.signal); // one listener per followed run, many at once
  const followRun = (filePath: string, workflowId: string, runId: string) => {
    if (closed || following.get(filePath) === runId) return;
    following.set(filePath, runId);
    void deps.client.withAbortSignal(abort.signal, () => deps.client.workflow.getHandle(workflowId, runId).result())
      .catch(() => undefined)
      .then(async () => {
        if (following.get(filePath) !== runId || closed) return;
        following.delete(filePath);
        if (await fs.lstat(filePath).then(() => true, () => false)) await startIfIdle(filePath, retryPolicy.initialMs);
      });
  };

  const onFile = async (filePath: string, event: 'add' | 'change') => {
    const c = classifyPath(root, filePath);
    if (c.kind === 'ignored') {
      if (event === 'add') log.warn({ filePath, reason: c.reason }, `ignored ${path.basename(filePath)}: ${c.reason}`);
      return;
    }
    try {
      const res = await signalFileWorkflow(deps.client, { dropRoot: root, filePath, stability: deps.stability });
      if ('workflowId' in res) {
        log.info({ event: `watch.${event}`, filePath, workflowId: res.workflowId }, event === 'add' ? 'file seen' : 'file changed');
        followRun(filePath, res.workflowId, res.runId);
      }
    } catch (err) {
      // The watcher must outlive a Temporal outage: the file stays where it is and is started once Temporal answers.
      log.warn({ filePath, err: (err as Error).message, retryInMs: retryPolicy.initialMs }, 'could not start or signal the file workflow; will try again');
      retryLater(filePath, retryPolicy.initialMs);
    }
  };

  /** Every file (or link, refused by its workflow) in the four leaf folders gets a workflow if it has none. */
  let scanning = false;
  const rescan = async (): Promise<void> => {
    if (scanning || closed) return;
    scanning = true;
    try {
      for (const kind of dataKinds) {
        for (const mode of loadModes) {
          const dir = path.join(root, kind, mode);
          const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
          for (const e of entries) {
            if (closed) return;
            const filePath = path.join(dir, e.name);
            if ((e.isFile() || e.isSymbolicLink()) && classifyPath(root, filePath).kind === 'input' && !retries.has(filePath)) {
              await startIfIdle(filePath, retryPolicy.initialMs);
            }
          }
        }
      }
    } finally {
      scanning = false;
    }
  };

  const watcher: FSWatcher = chokidar.watch(root, {
    // Files already there are started by the first rescan, which leaves running workflows alone.
    ignoreInitial: true,
    awaitWriteFinish: false,
    followSymlinks: false,
    usePolling: deps.usePolling ?? false,
    depth: 3,
    ignored: (p: string) => {
      const rel = path.relative(root, p).split(path.sep);
      return rel.length >= 3 && (archiveFolders as readonly string[]).includes(rel[2]);
    },
  });
  watcher.on('add', (p) => void onFile(p, 'add'));
  watcher.on('change', (p) => void onFile(p, 'change'));
  watcher.on('error', (err: unknown) => log.error({ err: (err as Error).message }, "watcher error"));
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  // Not awaited: with Temporal down, the first scan waits on retries, and watching must start regardless.
  void rescan();
  const rescanTimer = setInterval(() => void rescan(), deps.rescanIntervalMs ?? 60_000);
  rescanTimer.unref();
  log.info({ dropRoot: root }, 'watching drop folders');
  return {
    async close() {
      closed = true;
      abort.abort();
      clearInterval(rescanTimer);
      for (const t of retries.values()) clearTimeout(t);
      retries.clear();
      await watcher.close();
    },
  };
}
