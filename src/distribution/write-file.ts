// Writes a file atomically (a temporary name in the same folder, fsync, rename), hashing and counting as it streams.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

export interface WrittenFile {
  path: string;
  bytes: number;
  sha256: string;
}

/**
 * Streams `chunks` into `dir/name`. Readers see either the previous file or the complete new one, never a part:
 * a crash leaves only a `.name.*.tmp` that the next attempt ignores and `removeStaleTemporaries` clears.
 */
export async function writeAtomically(dir: string, name: string, chunks: AsyncIterable<Buffer>, onChunk?: (bytes: number) => void): Promise<WrittenFile> {
  await fs.promises.mkdir(dir, { recursive: true });
  const final = path.join(dir, name);
  const tmp = path.join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  const hash = createHash('sha256');
  let bytes = 0;
  const out = fs.createWriteStream(tmp);
  try {
    await pipeline(
      chunks,
      async function* tap(source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          hash.update(chunk);
          bytes += chunk.length;
          onChunk?.(bytes);
          yield chunk;
        }
      },
      out,
    );
    // On disk before the rename makes it visible: a crash must not leave a complete-looking name with missing bytes.
    const handle = await fs.promises.open(tmp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    // pipeline() settles once its source fails, without waiting for the file stream it destroys to finish opening and
    // closing: removing the temporary before that could let the late open create it again, left behind.
    if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
  await fs.promises.rename(tmp, final);
  return { path: final, bytes, sha256: hash.digest('hex') };
}

/** Streams an existing file through SHA-256 (a backup is checked against what was recorded). */
export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Leftovers of attempts that died mid-write. */
export async function removeStaleTemporaries(dir: string): Promise<void> {
  const names = await fs.promises.readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith('.') && n.endsWith('.tmp')).map((n) => fs.promises.rm(path.join(dir, n), { force: true })));
}
