// The drop-folder tree: which folders are inputs, how a path classifies, where archived files go. Pure.
import path from 'node:path';
import type { LoadMode } from './db/types';

export const dataKinds = ['reference_data_table', 'none_reference_data_table'] as const;
export const loadModes: LoadMode[] = ['fullload', 'append'];
export const archiveFolders = ['processed', 'error'] as const;

export type Classification =
  | { kind: 'input'; referenceData: boolean; loadType: LoadMode; relativePath: string; fileName: string }
  | { kind: 'ignored'; reason: string };

/** Every folder of the tree, relative to the drop root. */
export function dropFolderTree(): string[] {
  return dataKinds.flatMap((k) => loadModes.flatMap((m) => [`${k}/${m}`, ...archiveFolders.map((a) => `${k}/${m}/${a}`)]));
}

const partialUpload = /(\.(tmp|part|partial|crdownload|filepart|swp)|~)$/i;

/** Decides whether a path under the drop root is a file to load, and says why not otherwise. */
export function classifyPath(dropRoot: string, filePath: string): Classification {
  const rel = path.relative(path.resolve(dropRoot), path.resolve(filePath));
  if (rel.startsWith('..') || path.isAbsolute(rel)) return { kind: 'ignored', reason: 'outside the drop root' };
  const parts = rel.split(path.sep);
  const fileName = parts[parts.length - 1];
  if (parts.length === 1) return { kind: 'ignored', reason: 'in the drop root; put it in <kind>/<fullload|append>/' };
  if (parts.length > 3 && (archiveFolders as readonly string[]).includes(parts[2])) {
    return { kind: 'ignored', reason: `in ${parts[2]}/ (archive, not an input)` };
  }
  if (parts.length !== 3 || !(dataKinds as readonly string[]).includes(parts[0]) || !loadModes.includes(parts[1] as LoadMode)) {
    return { kind: 'ignored', reason: 'not in one of the four leaf folders (reference_data_table|none_reference_data_table)/(fullload|append)' };
  }
  if (fileName.startsWith('.')) return { kind: 'ignored', reason: 'hidden file' };
  if (partialUpload.test(fileName)) return { kind: 'ignored', reason: 'a partial upload (temporary name)' };
  if (!/\.csv$/i.test(fileName)) return { kind: 'ignored', reason: 'not a .csv file' };
  return {
    kind: 'input',
    referenceData: parts[0] === 'reference_data_table',
    loadType: parts[1] as LoadMode,
    relativePath: parts.join('/'),
    fileName,
  };
}

/** `<leaf>/<processed|error>/<stamp>_<name>`; the stamp comes from the workflow so retries reuse the name. */
export function archivePath(filePath: string, folder: 'processed' | 'error', at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return path.join(path.dirname(filePath), folder, `${stamp}_${sanitizeFileName(path.basename(filePath))}`);
}

/** Keeps archived names printable and short enough for every file system. */
export function sanitizeFileName(name: string): string {
  const cleaned = name.replace(/[\u0000-\u001f\u007f/\\:*?"<>|]/g, '_');
  if (cleaned.length <= 180) return cleaned;
  const ext = path.extname(cleaned).slice(0, 10);
  return cleaned.slice(0, 180 - ext.length) + ext;
}

/** The name a file had before `archivePath` stamped it (`20241201T101500Z_airports.csv` → `airports.csv`). */
export function unarchivedName(archivedName: string): string {
  return archivedName.replace(/^\d{8}T\d{6}Z_/, '');
}
