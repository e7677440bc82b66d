// A report file named in a delivery request: it must sit inside a configured root (after resolving links), and is hashed once.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DeliveryAttachment } from '../channels/types';
import { badRequest } from './errors';

const contentTypes: Record<string, string> = {
  '.csv': 'text/csv', '.json': 'application/json', '.pdf': 'application/pdf', '.txt': 'text/plain', '.html': 'text/html',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', '.zip': 'application/zip', '.gz': 'application/gzip',
  '.gpg': 'application/pgp-encrypted', '.pgp': 'application/pgp-encrypted', '.asc': 'application/pgp-encrypted', '.xml': 'application/xml',
};

function inside(child: string, root: string): boolean {
  const rel = path.relative(root, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** realpath on both sides: a symlink inside a root that points outside it is refused. */
export async function resolveReportFile(filePath: string, roots: readonly string[]): Promise<DeliveryAttachment> {
  if (!path.isAbsolute(filePath)) throw badRequest('INVALID_FILE_PATH', `file_path must be absolute, got ${JSON.stringify(filePath)}`);
  let real: string;
  try {
    real = await fs.promises.realpath(filePath);
  } catch {
    throw badRequest('FILE_NOT_FOUND', `report file ${filePath} does not exist`);
  }
  const realRoots = await Promise.all(roots.map((r) => fs.promises.realpath(r).catch(() => null)));
  if (!realRoots.some((r) => r !== null && inside(real, r))) {
    throw badRequest('FILE_OUTSIDE_ROOTS', `report file ${filePath} is outside the allowed report roots (REFDATA_REPORT_ROOTS: ${roots.join(', ')})`);
  }
  const stat = await fs.promises.stat(real);
  if (!stat.isFile()) throw badRequest('INVALID_FILE_PATH', `report file ${filePath} is not a regular file`);
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(real)) hash.update(chunk as Buffer);
  return {
    fileName: path.basename(real),
    path: real,
    contentType: contentTypes[path.extname(real).toLowerCase()] ?? 'application/octet-stream',
    bytes: stat.size,
    sha256: hash.digest('hex'),
  };
}
