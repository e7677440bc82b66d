// POST /api/v1/files: process a file now through the same fileLifecycle workflow as a dropped one (same rules,
// ledger and duplicate check, no stability wait): an upload (multipart or raw body) or a file inside the drop root.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { Type } from '@sinclair/typebox';
import type { Client } from '@temporalio/client';
import type { Database } from '../db/types';
import { classifyPath } from '../drop-folders';
import {
  IntakeError, assertPathIdle, awaitIntake, copiedFileName, copyIntoDropFolder, intakeFileName, leafFolders, placeInDropFolder, startIntake,
} from '../file-intake';
import type { StabilityOptions } from '../../workflows/file-lifecycle';
import { ErrorBody } from './schemas';
import { requireRole, type RoleAuth } from './auth';
import { PlanRequestError, resolveInsideDropRoot } from './plan';

export interface FileIntakeApiDeps {
  auth: RoleAuth;
  db: Database;
  client: Client;
  dropRoot: string;
  /** Largest upload, in bytes (REFDATA_UPLOAD_MAX_BYTES). */
  maxBytes: number;
  /** Passed to the workflow (it skips the wait; a run the watcher started first keeps its own). */
  stability: StabilityOptions;
}

const Folder = Type.Union(leafFolders.map((f) => Type.Literal(f)), {
  description: 'the drop folder the file loads from: kind (reference data or not) and mode (fullload or append)',
});
const waitDoc = 'true: answer the outcome when the load ends (up to waitSeconds); false (default): answer 202 at once';
const waitSecondsDoc = 'how long wait=true waits before answering 202 instead (default 300)';
const Options = {
  folder: Type.Optional(Folder),
  wait: Type.Optional(Type.Boolean({ description: waitDoc })),
  waitSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600, description: waitSecondsDoc })),
};

const Started = Type.Object({
  workflowId: Type.String(), runId: Type.String(), filePath: Type.String({ description: 'relative to the drop root' }),
  status: Type.Literal('running'),
});
const Outcome = Type.Object({
  workflowId: Type.String(), runId: Type.String(), filePath: Type.String(),
  status: Type.Union(['loaded', 'duplicate', 'error', 'cancelled', 'vanished'].map((s) => Type.Literal(s))),
  table: Type.Union([Type.String(), Type.Null()]),
  rows: Type.Integer({ description: 'rows of this file now in the table (0 unless loaded)' }),
  quarantined: Type.Integer(),
  loadId: Type.Union([Type.String(), Type.Null()], { description: 'for a duplicate: the load that already has this content' }),
  archivedTo: Type.Union([Type.String(), Type.Null()]),
  error: Type.Union([
    Type.Object({
      code: Type.String({ description: 'the failure type (InvalidFile, SchemaMismatch, …)' }), message: Type.String(),
      report: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], { description: 'the <name>.error.json written beside the file in error/' }),
    }),
    Type.Null(),
  ]),
});

export const fileIntakePlugin = (deps: FileIntakeApiDeps): FastifyPluginAsync => async (app) => {
  // Registered here, so these parsers exist for this route only; neither reads the body (the handler streams it).
  await app.register(multipart, { limits: { fileSize: deps.maxBytes, files: 1, fields: 5, fieldSize: 1024, parts: 6 } });
  app.addContentTypeParser(['text/csv', 'application/octet-stream'], (_req, payload, done) => done(null, payload));

  /** Puts the request's file into its drop folder; returns its path there. */
  async function place(req: FastifyRequest, q: { folder?: string; name?: string }): Promise<string> {
    if (req.isMultipart()) {
      const part = await req.file();
      if (!part) throw new IntakeError(400, 'NO_FILE', 'send the CSV as a multipart part named "file"');
      const folder = need(q.folder);
      const name = intakeFileName(q.name ?? part.filename);
      await assertPathIdle(deps.client, folder, name);
      const placed = await placeInDropFolder({ dropRoot: deps.dropRoot, folder, fileName: name, source: part.file, maxBytes: deps.maxBytes });
      // The multipart plugin stops a part at its limit (and marks it) instead of failing the stream.
      if (part.file.truncated) {
        await fs.rm(placed, { force: true });
        throw new IntakeError(413, 'FILE_TOO_LARGE', `the upload is larger than ${deps.maxBytes} bytes (REFDATA_UPLOAD_MAX_BYTES); put the file in the drop folder instead`);
      }
      return placed;
    }
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (contentType === 'text/csv' || contentType === 'application/octet-stream') {
      const folder = need(q.folder);
      if (!q.name) throw new IntakeError(400, 'BAD_NAME', 'a raw upload needs ?name=<file>.csv (the name decides the table)');
      const name = intakeFileName(q.name);
      await assertPathIdle(deps.client, folder, name);
      return placeInDropFolder({ dropRoot: deps.dropRoot, folder, fileName: name, source: req.body as Readable, maxBytes: deps.maxBytes });
    }
    const body = req.body as { path?: string; folder?: string } | undefined;
    if (!body?.path) throw new IntakeError(400, 'BAD_REQUEST', 'upload the file (multipart "file" part, or a text/csv body with ?name=), or send JSON { "path": "…" }');
    const file = await resolveInsideDropRoot(deps.dropRoot, body.path);
    const folder = body.folder ?? q.folder;
    const c = classifyPath(deps.dropRoot, file);
    if (c.kind === 'input') {
      // Already in a leaf folder: it loads from there, as a drop would.
      const from = c.relativePath.split('/').slice(0, 2).join('/');
      if (folder && folder !== from) throw new IntakeError(400, 'FOLDER_MISMATCH', `${body.path} is in ${from}, not ${folder}; move it, or leave out folder`);
      return file;
    }
    // Elsewhere in the root (an archive folder, a staging folder): a copy loads, the original stays.
    const name = copiedFileName(file);
    const target = need(folder);
    await assertPathIdle(deps.client, target, name);
    return copyIntoDropFolder(deps.dropRoot, file, target);
  }

  app.post('/api/v1/files', {
    preHandler: requireRole(deps.auth, ['admin', 'operator']),
    schema: {
      tags: ['files'],
      summary: 'Process a file now through its workflow (same rules, ledger and duplicate check as a drop, no stability wait)',
      description:
        'Send the file as multipart/form-data (one part named `file`), or as a raw `text/csv` / `application/octet-stream` body ' +
        'with `?name=<file>.csv`; it is written whole into the drop folder `folder` (at most REFDATA_UPLOAD_MAX_BYTES). Or send ' +
        'JSON `{ "path": "<file inside the drop root>" }`: a file in a leaf folder loads from there, any other is copied into `folder`. ' +
        'Paths leading out of the drop root, also through a symbolic link, answer 400. wait=false: 202 with the workflow id. ' +
        'wait=true: the outcome (200 loaded or duplicate, 422 error with its report, 409 cancelled), or 202 after waitSeconds. ' +
        '409 FILE_EXISTS / FILE_IN_PROGRESS: a file of that name is still in that folder or its run still runs. ' +
        '503 TEMPORAL_UNAVAILABLE: the file is in its folder but its run could not be started (the watcher starts it later).',
      querystring: Type.Object({ ...Options, name: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'file name of a raw upload (it names the table)' })) }),
      body: {
        content: {
          'application/json': { schema: Type.Object({ path: Type.String({ minLength: 1, maxLength: 4096, pattern: '^[^\\u0000]*$' }), ...Options }, { additionalProperties: false }) },
          'multipart/form-data': { schema: Type.Unknown({ description: 'one file part named "file" (streamed; at most REFDATA_UPLOAD_MAX_BYTES)' }) },
          'text/csv': { schema: Type.Unknown({ description: 'the file itself (needs ?name=)' }) },
          'application/octet-stream': { schema: Type.Unknown({ description: 'the file itself (needs ?name=)' }) },
        },
      },
      response: { 200: Outcome, 202: Started, 400: ErrorBody, 409: Type.Union([Outcome, ErrorBody]), 413: ErrorBody, 422: Outcome, 503: ErrorBody },
    },
  }, async (req: FastifyRequest, reply: FastifyReply) => {
    const q = req.query as { folder?: string; name?: string; wait?: boolean; waitSeconds?: number };
    const body = (req.body && typeof req.body === 'object' && !('pipe' in req.body) ? req.body : {}) as { wait?: boolean; waitSeconds?: number };
    const wait = body.wait ?? q.wait ?? false;
    const waitSeconds = body.waitSeconds ?? q.waitSeconds ?? 300;
    let run: Awaited<ReturnType<typeof startIntake>>;
    let placed: string | null = null;
    try {
      placed = await place(req, q);
      run = await startIntake(deps.client, { dropRoot: deps.dropRoot, filePath: placed, stability: deps.stability });
    } catch (err) {
      if (placed && !(err instanceof IntakeError)) {
        // The file is whole in its leaf folder: the watcher's rescan starts its run once Temporal takes it.
        req.log.warn({ err, filePath: placed }, 'file placed, but its workflow could not be started');
        return reply.code(503).send({ error: { code: 'TEMPORAL_UNAVAILABLE', message: `${path.relative(deps.dropRoot, placed)} is in its drop folder, but Temporal did not start its run (${(err as Error).message}); the watcher starts it once Temporal answers` } });
      }
      if (err instanceof IntakeError || err instanceof PlanRequestError) {
        return reply.code(err.statusCode).send({ error: { code: err.code, message: err.message } });
      }
      const code = (err as { code?: string }).code;
      if (code === 'FST_REQ_FILE_TOO_LARGE') return reply.code(413).send({ error: { code: 'FILE_TOO_LARGE', message: `the upload is larger than ${deps.maxBytes} bytes (REFDATA_UPLOAD_MAX_BYTES)` } });
      if (typeof code === 'string' && code.startsWith('FST_')) return reply.code(400).send({ error: { code: 'BAD_REQUEST', message: (err as Error).message } });
      throw err;
    }
    const ids = { workflowId: run.workflowId, runId: run.runId, filePath: run.relativePath };
    const outcome = wait ? await awaitIntake(deps.client, run, waitSeconds * 1000) : { done: false as const };
    if (!outcome.done) return reply.code(202).send({ ...ids, status: 'running' as const });
    if ('result' in outcome) {
      const r = outcome.result;
      const status = r.status === 'cancelled' ? 409 : 200;
      return reply.code(status).send({ ...ids, status: r.status, table: r.table, rows: r.rows, quarantined: r.quarantined, loadId: r.loadId, archivedTo: r.archivedTo, error: r.error ? { code: r.error.type, message: r.error.message, report: null } : null });
    }
    // A failed run: what its ledger row and error report say (the report sits beside the file in error/).
    const latest = await deps.db.getTrackingByPath(run.filePath);
    const rec = latest?.runId === run.runId ? latest : null;
    const archivedTo = rec?.archivedPath ?? null;
    const report = archivedTo ? await readReport(`${archivedTo}.error.json`) : null;
    const f = outcome.failure;
    return reply.code(f.type === 'Cancelled' ? 409 : 422).send({
      ...ids, status: f.type === 'Cancelled' ? 'cancelled' : 'error', table: rec?.tableName ?? null, rows: 0, quarantined: 0,
      loadId: null, archivedTo, error: { code: f.type, message: f.message, report },
    });
  });
};

function need(folder: string | undefined): string {
  if (!folder) throw new IntakeError(400, 'NO_FOLDER', `say which drop folder the file loads from: folder=${leafFolders.join('|')}`);
  return folder;
}

async function readReport(file: string): Promise<Record<string, unknown> | null> {
  return fs.readFile(file, 'utf8').then((t) => JSON.parse(t) as Record<string, unknown>, () => null);
}
