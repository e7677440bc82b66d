// The drop-folder watcher: one workflow per dropped file (signal-with-start), existing files picked up at start.
import fs from 'node:fs/promises';
import path from 'node:path';
import chokidar, { type FSWatcher } from 'chokidar';
import type { Client } from '@temporalio/client';
import type { Logger } from '../log/logger';
import { dropFolderTree, classifyPath, archiveFolders } from '../drop-folders';
import { signalFileWorkflow } from '../temporal/client';
import type { StabilityOptions } from '../../workflows/file-lifecycle';

export interface WatcherDeps {
  client: Client;
  dropRoot: string;
  stability: StabilityOptions;
  log: Logger;
  /** Polling for file systems without change events (network shares, some containers). */
  usePolling?: boolean;
}

export async function ensureDropFolders(dropRoot: string): Promise<void> {
  for (const dir of dropFolderTree()) await fs.mkdir(path.join(dropRoot, dir), { recursive: true });
}

export async function startWatcher(deps: WatcherDeps): Promise<{ close(): Promise<void> }> {
  const root = path.resolve(deps.dropRoot);
  await ensureDropFolders(root);
  const log = deps.log.child({ component: 'watcher' });

  const onFile = async (filePath: string, event: 'add' | 'change') => {
    const c = classifyPath(root, filePath);
    if (c.kind === 'ignored') {
      if (event === 'add') log.warn({ filePath, reason: c.reason }, `ignored ${path.basename(filePath)}: ${c.reason}`);
      return;
    }
    try {
      const res = await signalFileWorkflow(deps.client, { dropRoot: root, filePath, stability: deps.stability });
      if ('workflowId' in res) log.info({ event: `watch.${event}`, filePath, workflowId: res.workflowId }, event === 'add' ? 'file seen' : 'file changed');
    } catch (err) {
      // The watcher must outlive a Temporal outage; the file stays where it is and is picked up at the next start.
      log.error({ filePath, err: (err as Error).message }, 'could not start or signal the file workflow; will pick it up again on the next change or restart');
    }
  };

  const watcher: FSWatcher = chokidar.watch(root, {
    ignoreInitial: false,
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
  log.info({ dropRoot: root }, 'watching drop folders');
  return { close: () => watcher.close() };
}
