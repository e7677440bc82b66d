// Retention: removes archived files from processed/ and error/, and drops old bkp tables.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Database } from '../src/db/types';
import type { Logger } from '../src/log/logger';
import { archiveFolders, dataKinds, loadModes } from '../src/drop-folders';
import { isExpired } from '../src/retention';

export interface CleanupDeps {
  db: Database;
  log: Logger;
  dropRoot: string;
  retention: { archiveDays: number; bkpDays: number };
  now?: () => Date;
}

export interface CleanupResult {
  filesRemoved: number;
  bytesFreed: number;
  backupsDropped: string[];
}

const DAY = 24 * 60 * 60 * 1000;

export function createCleanupActivities(deps: CleanupDeps) {
  const now = deps.now ?? (() => new Date());
  return {
    async cleanupArchives(): Promise<CleanupResult> {
      const fileCutoff = new Date(now().getTime() - deps.retention.archiveDays * DAY);
      let filesRemoved = 0;
      let bytesFreed = 0;
      for (const kind of dataKinds) {
        for (const mode of loadModes) {
          for (const folder of archiveFolders) {
            const dir = path.join(deps.dropRoot, kind, mode, folder);
            const names = await fs.readdir(dir).catch(() => [] as string[]);
            for (const name of names) {
              const p = path.join(dir, name);
              const st = await fs.lstat(p).catch(() => null);
              if (!st?.isFile() || !isExpired(name, st.mtime, fileCutoff)) continue;
              await fs.rm(p, { force: true });
              filesRemoved++;
              bytesFreed += st.size;
            }
          }
        }
      }
      const backupsDropped = await deps.db.dropBackupsOlderThan(new Date(now().getTime() - deps.retention.bkpDays * DAY));
      deps.log.info({ event: 'cleanup.done', filesRemoved, bytesFreed, backupsDropped }, 'retention cleanup finished');
      return { filesRemoved, bytesFreed, backupsDropped };
    },
  };
}
