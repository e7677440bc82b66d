// A file handed over through the API (POST /api/v1/files): put whole into its drop folder, loaded by the same
// fileLifecycle workflow as a dropped file (without the stability wait), and, when asked, its outcome awaited.
import crypto from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { archiveFolders, classifyPath, dataKinds, loadModes, sanitizeFileName, unarchivedName } from './drop-folders';
import { fileWorkflowId } from './ids';
import { startFileWorkflowNow } from './temporal/client';
import type { FileLifecycleResult, StabilityOptions } from '../workflows/file-lifecycle';
import type { FailureType } from './errors';

/** The four leaf folders a file can be loaded from, as `<kind>/<mode>`. */
export const leafFolders = dataKinds.flatMap((k) => loadModes.map((m) => `${k}/${m}`));

/** A request the API refuses: the status and code the client sees. */
export class IntakeError extends Error {
  constructor(readonly statusCode: 400 | 409 | 413, readonly code: string, message: string) {
    super(message);
    this.name = 'IntakeError';
  }
}

/** The name a file gets in its drop folder: the sender's base name, printable; it decides the table name. */
export function intakeFileName(given: string | undefined): string {
  const name = sanitizeFileName(path.basename((given ?? '').replace(/\\/g, '/')));
  if (name === '' || name === '.' || name === '..') throw new IntakeError(400, 'BAD_NAME', 'give the file a name ending in .csv (it names the table)');
  if (name.startsWith('.')) throw new IntakeError(400, 'BAD_NAME', `${name} is a hidden name; hidden files are never loaded`);
  if (!/\.csv$/i.test(name)) throw new IntakeError(400, 'BAD_NAME', `${name} is not a .csv file`);
  return name;
}

/** Counts bytes through; past `max` it fails the stream, so a too-large upload stops being written at once. */
function byteLimit(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > max) done(new IntakeError(413, 'FILE_TOO_LARGE', `the upload is larger than ${max} bytes (REFDATA_UPLOAD_MAX_BYTES); put the file in the drop folder instead`));
      else done(null, chunk);
    },
  });
}

/**
 * Writes `source` into the leaf folder `folder` as `fileName`: first under a hidden temporary name (the watcher and
 * the loader ignore it), then linked to its name, which fails rather than replace a file already there.
 */
export async function placeInDropFolder(opts: {
  dropRoot: string; folder: string; fileName: string; source: Readable; maxBytes?: number;
}): Promise<string> {
  if (!leafFolders.includes(opts.folder)) throw new IntakeError(400, 'BAD_FOLDER', `folder must be one of ${leafFolders.join(', ')}`);
  const dir = path.join(path.resolve(opts.dropRoot), opts.folder);
  const target = path.join(dir, opts.fileName);
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${opts.fileName}.${crypto.randomBytes(6).toString('hex')}.upload`);
  try {
    const out = createWriteStream(tmp, { flags: 'wx' });
    if (opts.maxBytes === undefined) await pipeline(opts.source, out);
    else await pipeline(opts.source, byteLimit(opts.maxBytes), out);
    await linkNoReplace(tmp, target, opts.folder);
    return target;
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

async function linkNoReplace(from: string, to: string, folder: string): Promise<void> {
  const taken = () => new IntakeError(409, 'FILE_EXISTS', `a file named ${path.basename(to)} is already waiting in ${folder}; send it again once that one is processed, or under another name`);
  try {
    await fs.link(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw taken();
    // File systems without hard links: check, then rename (a narrower guarantee, kept for such shares).
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw err;
    if (await fs.lstat(to).then(() => true, () => false)) throw taken();
    await fs.rename(from, to);
  }
}

/** The name a file from elsewhere in the drop root loads under: an archived file gets back the name it was dropped with. */
export function copiedFileName(from: string): string {
  const archived = (archiveFolders as readonly string[]).includes(path.basename(path.dirname(from)));
  return intakeFileName(archived ? unarchivedName(path.basename(from)) : path.basename(from));
}

/** Copies a file from elsewhere in the drop root into a leaf folder; the original stays where it is. */
export async function copyIntoDropFolder(dropRoot: string, from: string, folder: string): Promise<string> {
  return placeInDropFolder({ dropRoot, folder, fileName: copiedFileName(from), source: createReadStream(from) });
}

/** Refuses a second file while a run for the same path still runs: that run archives by path and would take it. */
export async function assertPathIdle(client: Client, folder: string, fileName: string): Promise<void> {
  const id = fileWorkflowId(`${folder}/${fileName}`);
  const desc = await client.workflow.getHandle(id).describe().catch(() => null);
  if (desc?.status.name === 'RUNNING') {
    throw new IntakeError(409, 'FILE_IN_PROGRESS', `${folder}/${fileName} is still being processed (workflow ${id}); send it again when it finishes, or under another name`);
  }
}

/** Starts (or joins) the run that loads `filePath`, a file already in a leaf folder. */
export async function startIntake(client: Client, opts: { dropRoot: string; filePath: string; stability: StabilityOptions }): Promise<{ workflowId: string; runId: string; relativePath: string; filePath: string }> {
  const c = classifyPath(opts.dropRoot, opts.filePath);
  if (c.kind === 'ignored') throw new IntakeError(400, 'NOT_AN_INPUT', `${path.basename(opts.filePath)} cannot be loaded: ${c.reason}`);
  const started = await startFileWorkflowNow(client, opts);
  if ('ignored' in started) throw new IntakeError(400, 'NOT_AN_INPUT', started.ignored);
  return { ...started, relativePath: c.relativePath, filePath: path.resolve(opts.filePath) };
}

export type IntakeOutcome =
  | { done: false }
  | { done: true; result: FileLifecycleResult }
  | { done: true; failure: { type: FailureType | string; message: string; details: unknown } };

/** Waits up to `timeoutMs` for the run's outcome; a failed run answers its failure (type, message, where). */
export async function awaitIntake(client: Client, run: { workflowId: string; runId: string }, timeoutMs: number): Promise<IntakeOutcome> {
  const handle = client.workflow.getHandle<() => Promise<FileLifecycleResult>>(run.workflowId, run.runId);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<IntakeOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), timeoutMs);
  });
  const outcome = handle.result().then(
    (result): IntakeOutcome => ({ done: true, result }),
    (err: unknown): IntakeOutcome => {
      if (!(err instanceof WorkflowFailedError)) throw err;
      const cause = err.cause;
      if (cause instanceof ApplicationFailure) {
        const d = cause.details?.[0] as { details?: unknown } | undefined;
        return { done: true, failure: { type: cause.type ?? 'Internal', message: cause.message, details: d?.details ?? null } };
      }
      return { done: true, failure: { type: cause?.name === 'CancelledFailure' ? 'Cancelled' : 'Internal', message: cause?.message ?? err.message, details: null } };
    },
  );
  try {
    return await Promise.race([outcome, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
