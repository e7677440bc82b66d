// Backup copies of a run's files (`<backup dir>/<YYYYMMDD>/`); the cleanup sweep removes them after their retention.
import fs from 'node:fs';
import path from 'node:path';
import { sha256OfFile } from './write-file';

/**
 * Copies each file under a temporary name and renames it, then checks the copy's SHA-256 against the original's
 * recorded one: a backup that differs from what was delivered is worse than none.
 */
export async function backUpFiles(files: Array<{ name: string; sha256: string }>, fromDir: string, toDir: string): Promise<string[]> {
  await fs.promises.mkdir(toDir, { recursive: true });
  const copied: string[] = [];
  for (const f of files) {
    const target = path.join(toDir, f.name);
    const tmp = path.join(toDir, `.${f.name}.${process.pid}.tmp`);
    await fs.promises.copyFile(path.join(fromDir, f.name), tmp);
    const sha = await sha256OfFile(tmp);
    if (sha !== f.sha256) {
      await fs.promises.rm(tmp, { force: true });
      throw new Error(`backup of ${f.name} has SHA-256 ${sha}, the run recorded ${f.sha256}: the file changed after it was generated; re-run the distribution`);
    }
    await fs.promises.rename(tmp, target);
    copied.push(target);
  }
  return copied;
}
