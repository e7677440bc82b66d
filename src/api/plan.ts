// POST /api/v1/plan: how a file would load (format, types, table, match), without loading it. The answer is exactly
// `refdata plan --json`: for an uploaded file (multipart, size-limited, streamed to a temporary file) or a file
// already inside the drop root (JSON `{ "path": … }`, refused if it leaves the root, also through a symbolic link).
import fs from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { Type } from '@sinclair/typebox';
import { ApplicationFailure } from '@temporalio/common';
import type { Database, LoadMode } from '../db/types';
import { sanitizeFileName } from '../drop-folders';
import { planForCli, type PlanJson } from '../cli/plan';
import { ErrorBody } from './schemas';
import { requireRole, type RoleAuth } from './auth';

export interface PlanApiDeps {
  /** Planning reads files of the drop root (names, columns, sample values): operators and admins only. */
  auth: RoleAuth;
  db: Database | null;
  dropRoot: string;
  /** Largest upload accepted, in bytes (REFDATA_PLAN_MAX_BYTES). */
  maxBytes: number;
  /** Where uploads wait while they are planned (removed afterwards). */
  tempDir?: string;
}

/** Bad input: the status and code the client sees. */
export class PlanRequestError extends Error {
  constructor(readonly statusCode: 400 | 413 | 422, readonly code: string, message: string) {
    super(message);
    this.name = 'PlanRequestError';
  }
}

const isInside = (root: string, p: string) => {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

/** The file `requested` names inside the drop root (relative paths are taken from the root); refuses any way out. */
export async function resolveInsideDropRoot(dropRoot: string, requested: string): Promise<string> {
  const root = path.resolve(dropRoot);
  const realRoot = await fs.realpath(root);
  const candidate = path.isAbsolute(requested) ? path.resolve(requested) : path.resolve(root, requested);
  const unsafe = (why: string) => new PlanRequestError(400, 'UNSAFE_PATH', `${requested} ${why}; only files inside the drop root ${root} can be planned by path (or upload the file)`);
  if (!isInside(root, candidate) && !isInside(realRoot, candidate)) throw unsafe('is outside the drop root');
  const st = await fs.lstat(candidate).catch(() => null);
  if (!st) throw new PlanRequestError(400, 'NO_SUCH_FILE', `${requested} does not exist in the drop root`);
  if (st.isSymbolicLink()) throw unsafe('is a symbolic link');
  // A directory on the way may itself be a link that leads out.
  if (!isInside(realRoot, await fs.realpath(candidate))) throw unsafe('leads outside the drop root through a symbolic link');
  if (!st.isFile()) throw new PlanRequestError(400, 'NOT_A_FILE', `${requested} is not a regular file`);
  return candidate;
}

/** An unplannable file fails the same way `refdata plan --json` does, as 422. */
function planFailure(err: unknown): PlanRequestError | null {
  if (!(err instanceof ApplicationFailure)) return null;
  const code = (err.details?.[0] as { code?: string } | undefined)?.code ?? err.type ?? 'INVALID_FILE';
  return new PlanRequestError(422, code, err.message);
}

const PlanOptions = {
  loadType: Type.Optional(Type.Union([Type.Literal('fullload'), Type.Literal('append')], { description: 'default: from the folder, else fullload' })),
  referenceData: Type.Optional(Type.Boolean({ description: 'default: from the folder, else false' })),
};

const PlanJsonSchema = Type.Object({
  file: Type.String(), encoding: Type.String(), delimiter: Type.String(), quote: Type.String(), newline: Type.String(), hasHeader: Type.Boolean(),
  preambleLines: Type.Integer(), headers: Type.Array(Type.String()),
  columns: Type.Array(Type.Object({
    name: Type.String(), type: Type.String(), precision: Type.Optional(Type.Integer()), scale: Type.Optional(Type.Integer()), maxLength: Type.Optional(Type.Integer()),
  })),
  table: Type.String(), schema: Type.String(), loadType: Type.String(), referenceData: Type.Boolean(), rowCount: Type.Integer(), fileSize: Type.Integer(),
  sha256: Type.String(),
  match: Type.Union([Type.Object({ table: Type.String(), percent: Type.Number(), missing: Type.Array(Type.String()), extra: Type.Array(Type.String()) }), Type.Null()]),
  mapping: Type.Array(Type.Object({ header: Type.String(), column: Type.String(), existing: Type.Boolean() }), {
    description: 'Each file header, in file order, and the table column its values go into; existing: the table already has that column',
  }),
  suggestions: Type.Array(Type.Object({
    table: Type.String({ description: 'schema.name' }), percent: Type.Number({ description: 'paired columns / max(file, table columns) × 100' }),
    matched: Type.Integer(), missing: Type.Array(Type.String()), extra: Type.Array(Type.String()),
  }), { description: 'When the file would make a new table: the loaded tables whose columns match it best, best first (at most 3); empty otherwise' }),
});

export const planPlugin = (deps: PlanApiDeps): FastifyPluginAsync => async (app) => {
  // Registered here, so multipart parsing exists only for this route.
  await app.register(multipart, { limits: { fileSize: deps.maxBytes, files: 1, fields: 5, fieldSize: 1024, parts: 6 } });

  async function planUpload(req: FastifyRequest, opts: { loadType?: LoadMode; referenceData?: boolean }): Promise<PlanJson> {
    const part = await req.file();
    if (!part) throw new PlanRequestError(400, 'NO_FILE', 'send the CSV as a multipart part named "file"');
    const dir = await fs.mkdtemp(path.join(deps.tempDir ?? os.tmpdir(), 'refdata-plan-'));
    try {
      // The uploaded name decides the table name, exactly as a dropped file's name does.
      const given = sanitizeFileName(path.basename(part.filename || ''));
      const name = given === '' || given === '.' || given === '..' ? 'upload.csv' : given;
      const file = path.join(dir, name);
      await pipeline(part.file, createWriteStream(file));
      if (part.file.truncated) {
        throw new PlanRequestError(413, 'FILE_TOO_LARGE', `the upload is larger than ${deps.maxBytes} bytes (REFDATA_PLAN_MAX_BYTES); plan it by path from the drop folder instead`);
      }
      const plan = await planForCli(file, { ...opts, db: deps.db }, deps.dropRoot);
      return { ...plan, file: name };
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  app.post('/api/v1/plan', {
    preHandler: requireRole(deps.auth, ['admin', 'operator']),
    schema: {
      tags: ['plan'],
      summary: 'Plan a file without loading it: the same JSON as `refdata plan --json`',
      description:
        'Either upload the file as multipart/form-data (one part named `file`; options in the query string), or send JSON ' +
        '`{ "path": "<file inside the drop root>" }`. 400: bad request or unsafe path; 413: upload too large; 422: the file cannot be planned.',
      querystring: Type.Object(PlanOptions),
      body: {
        content: {
          'application/json': { schema: Type.Object({ path: Type.String({ minLength: 1, maxLength: 4096, pattern: '^[^\\u0000]*$' }), ...PlanOptions }, { additionalProperties: false }) },
          'multipart/form-data': { schema: Type.Unknown({ description: 'one file part named "file" (streamed; at most REFDATA_PLAN_MAX_BYTES)' }) },
        },
      },
      response: { 200: PlanJsonSchema, 400: ErrorBody, 413: ErrorBody, 422: ErrorBody },
    },
  }, async (req: FastifyRequest, reply: FastifyReply) => {
    const query = req.query as { loadType?: LoadMode; referenceData?: boolean };
    try {
      if (req.isMultipart()) return await planUpload(req, query);
      const body = req.body as { path?: string; loadType?: LoadMode; referenceData?: boolean } | undefined;
      if (!body?.path) throw new PlanRequestError(400, 'BAD_REQUEST', 'send multipart/form-data with a "file" part, or JSON { "path": "…" }');
      const file = await resolveInsideDropRoot(deps.dropRoot, body.path);
      return await planForCli(file, { db: deps.db, loadType: body.loadType ?? query.loadType, referenceData: body.referenceData ?? query.referenceData }, deps.dropRoot);
    } catch (err) {
      const known = err instanceof PlanRequestError ? err : planFailure(err);
      if (known) return reply.code(known.statusCode).send({ error: { code: known.code, message: known.message } });
      const code = (err as { code?: string }).code;
      // The multipart plugin's own limits (too many parts, a part too large while parsing).
      if (code === 'FST_REQ_FILE_TOO_LARGE') return reply.code(413).send({ error: { code: 'FILE_TOO_LARGE', message: `the upload is larger than ${deps.maxBytes} bytes (REFDATA_PLAN_MAX_BYTES)` } });
      if (typeof code === 'string' && code.startsWith('FST_')) return reply.code(400).send({ error: { code: 'BAD_REQUEST', message: (err as Error).message } });
      throw err;
    }
  });
};
