// Where a sync from a local file may read: only inside the configured instruments folder (INSTRUMENTS_FILE_DIR).
// The API checks the name it was given; the worker checks the real path, so a symlink cannot lead out of the folder.
import fs from 'node:fs';
import path from 'node:path';
import { SourceError } from './errors';

function outside(folder: string): SourceError {
  // The refused path is not repeated: it is the caller's own input, and the message may travel to other readers.
  return new SourceError(
    `a sync may only read files inside the instruments folder (${folder}, INSTRUMENTS_FILE_DIR); put the file there and name it relative to that folder. Nothing was read.`,
    'SourceForbidden',
    'OUTSIDE_FOLDER',
  );
}

function isInside(child: string, folder: string): boolean {
  const rel = path.relative(folder, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** The absolute path of `file` (relative names are taken inside `folder`); a SourceError when it lies outside. */
export function sourceFileIn(folder: string, file: string): string {
  if (file.includes('\0')) throw outside(folder);
  const abs = path.resolve(folder, file);
  if (!isInside(abs, folder)) throw outside(folder);
  return abs;
}

/**
 * The real path of `file` once every symlink is followed, checked against the folder's real path. A missing file is
 * SourceNotFound, named only relative to the folder.
 */
export async function realSourceFileIn(folder: string, file: string): Promise<string> {
  const abs = sourceFileIn(folder, file);
  const realFolder = await fs.promises.realpath(folder).catch(() => null);
  const real = await fs.promises.realpath(abs).catch(() => null);
  if (realFolder === null || real === null) {
    throw new SourceError(`${path.relative(folder, abs)} does not exist in the instruments folder (${folder}) on the worker's machine; nothing was changed`, 'SourceNotFound', 'NO_FILE');
  }
  if (!isInside(real, realFolder)) throw outside(folder);
  return real;
}
