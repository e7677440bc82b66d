// /api/v1/instruments: the instrument master (filters, one instrument, stats) and its sync (start, runs, one run).
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Client } from '@temporalio/client';
import type { Database } from '../db/types';
import type { InstrumentRecord } from '../db/instruments';
import { instrumentSyncWorkflowId } from '../ids';
import { describeSyncRun, startInstrumentSync } from '../temporal/instrument-sync';
import type { SyncSource } from '../../workflows/instrument-sync';
import type { InstrumentsConfig } from '../config';
import { resolveUrl } from '../channels/network-policy';
import { SourceError } from '../instruments/errors';
import { redactUrl } from '../instruments/download';
import { sourceFileIn } from '../instruments/source-file';
import { readRoles, requireRole, type RoleAuth } from './auth';
import { ErrorBody } from './schemas';
import { Instrument, InstrumentDetail, InstrumentStats, SyncConflict, SyncReport, SyncRunView, SyncStarted, type InstrumentT } from './instrument-schemas';

const row = ({ sourceRecord: _omit, ...rest }: InstrumentRecord): InstrumentT => rest;

interface ListQuery {
  segment?: string;
  instrument_type?: string;
  name?: string;
  expiry_from?: string;
  expiry_to?: string;
  active?: boolean;
  limit: number;
  offset: number;
}

/** What the sync route checks before it starts a run (the worker checks the same again where it reads or connects). */
export type SyncSourcePolicy = Pick<InstrumentsConfig, 'fileDir' | 'allowPrivateNetworks'> & Partial<Pick<InstrumentsConfig, 'lockLimitMs'>>;

/**
 * The source as the workflow gets it, or a message for a 400: a file inside the instruments folder, a URL whose host
 * resolves to addresses the destination policy allows. Neither message repeats what the refused input pointed at.
 */
async function checkedSource(body: { url?: string; file?: string }, policy: SyncSourcePolicy): Promise<SyncSource | undefined | string> {
  if (body.file !== undefined) {
    try {
      return { file: sourceFileIn(policy.fileDir, body.file) };
    } catch (err) {
      if (err instanceof SourceError) return err.message;
      throw err;
    }
  }
  if (body.url !== undefined) {
    try {
      await resolveUrl(body.url, { signal: AbortSignal.timeout(10_000), timeoutMs: 10_000, allowPrivateNetworks: policy.allowPrivateNetworks }, `instrument source ${redactUrl(body.url)}`);
    } catch (err) {
      // A name that does not resolve now may later: the worker decides (and retries); only a refusal is final here.
      if (err instanceof Error && 'permanent' in err && (err as { permanent: boolean }).permanent) return `${err.message}. Nothing was started.`;
    }
    return { url: body.url };
  }
  return undefined;
}

export const instrumentsPlugin = (deps: { db: Database; client: Client; auth: RoleAuth; policy: SyncSourcePolicy }): FastifyPluginAsync => async (app) => {
  const store = deps.db.instruments;
  // The run reports name sources and failures: the read roles', like every other operations read.
  const readKey = requireRole(deps.auth, readRoles);

  app.post('/api/v1/instruments/sync', {
    // `curl -X POST` with no body means "sync from INSTRUMENTS_URL", not a malformed request.
    preValidation: async (req) => {
      if (req.body === undefined || req.body === null) req.body = {};
    },
    preHandler: requireRole(deps.auth, ['admin', 'operator']),
    schema: {
      tags: ['instruments'],
      summary: 'Start an instrument master sync (one at a time: 409 names the running run)',
      description: 'Without `url` or `file` the worker syncs from INSTRUMENTS_URL. `file` is a name inside INSTRUMENTS_FILE_DIR on the worker\'s machine (nothing outside it, symlinks included). `url` must resolve, and every redirect too, to public addresses unless REFDATA_ALLOW_PRIVATE_DESTINATIONS is on. `force` goes past the guard.',
      security: [{ bearer: [] }],
      // url or file, not both: said by the schema, so the document and the 400 agree.
      body: Type.Union([
        Type.Object({ url: Type.String({ pattern: '^https?://[^/?#\\s]+', maxLength: 2000, description: 'sync from this URL instead of INSTRUMENTS_URL' }), force: Type.Optional(Type.Boolean({ description: 'go past the guard' })) }, { additionalProperties: false }),
        Type.Object({ file: Type.String({ minLength: 1, maxLength: 1000, description: 'a file in INSTRUMENTS_FILE_DIR, by name relative to it' }), force: Type.Optional(Type.Boolean({ description: 'go past the guard' })) }, { additionalProperties: false }),
        Type.Object({ force: Type.Optional(Type.Boolean({ description: 'go past the guard' })) }, { additionalProperties: false }),
      ]),
      response: { 202: SyncStarted, 409: SyncConflict, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
    },
  }, async (req, reply) => {
    const body = (req.body ?? {}) as { url?: string; file?: string; force?: boolean };
    if (body.url && body.file) return reply.code(400).send({ error: { code: 'BAD_REQUEST', message: 'give url or file, not both' } });
    const source = await checkedSource(body, deps.policy);
    if (typeof source === 'string') return reply.code(400).send({ error: { code: 'SOURCE_REFUSED', message: source } });
    const started = await startInstrumentSync(deps.client, { source, force: body.force ?? false, trigger: 'api', lockLimitMs: deps.policy.lockLimitMs });
    if (!started.started) {
      return reply.code(409).send({
        error: { code: 'SYNC_RUNNING' as const, message: `an instrument sync is already running (run ${started.runId}); follow it at /api/v1/instruments/sync/${started.runId}`, workflowId: started.workflowId, runId: started.runId },
      });
    }
    return reply.code(202).send({ workflowId: started.workflowId, runId: started.runId, status: 'started' as const });
  });

  app.get('/api/v1/instruments/sync', {
    preHandler: readKey,
    schema: {
      tags: ['instruments'],
      summary: 'Recent sync runs with their reports, newest first',
      querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 500, default: 20 }) }),
      response: { 200: Type.Object({ items: Type.Array(SyncReport) }) },
    },
  }, async (req) => ({ items: await store.listSyncRuns((req.query as { limit: number }).limit) }));

  app.get('/api/v1/instruments/sync/:runId', {
    preHandler: readKey,
    schema: {
      tags: ['instruments'],
      summary: 'One sync run: its report and, while it runs, its progress',
      params: Type.Object({ runId: Type.String({ minLength: 1, maxLength: 64 }) }),
      response: { 200: SyncRunView, 404: ErrorBody },
    },
  }, async (req, reply) => {
    const { runId } = req.params as { runId: string };
    const [report, temporal] = await Promise.all([store.getSyncRun(runId), describeSyncRun(deps.client, runId)]);
    if (!report && !temporal) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no instrument sync run ${runId}` } });
    return {
      runId, workflowId: report?.workflowId ?? instrumentSyncWorkflowId, workflowStatus: temporal?.status ?? null,
      progress: (temporal?.progress as Record<string, unknown> | null) ?? null, report,
    };
  });

  app.get('/api/v1/instruments', {
    schema: {
      tags: ['instruments'],
      summary: 'Instruments, filtered and paged (ordered by instrument_key)',
      querystring: Type.Object({
        segment: Type.Optional(Type.String({ maxLength: 50 })),
        instrument_type: Type.Optional(Type.String({ maxLength: 50 })),
        name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'case-insensitive "contains"' })),
        expiry_from: Type.Optional(Type.String({ format: 'date' })),
        expiry_to: Type.Optional(Type.String({ format: 'date' })),
        active: Type.Optional(Type.Boolean()),
        limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
        offset: Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0 }),
      }),
      response: { 200: Type.Object({ items: Type.Array(Instrument), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() }) },
    },
  }, async (req) => {
    const q = req.query as ListQuery;
    const { items, total } = await store.listInstruments({
      segment: q.segment, instrumentType: q.instrument_type, nameContains: q.name, expiryFrom: q.expiry_from, expiryTo: q.expiry_to, active: q.active,
      limit: q.limit, offset: q.offset,
    });
    return { items: items.map(row), total, limit: q.limit, offset: q.offset };
  });

  app.get('/api/v1/instruments/stats', {
    schema: {
      tags: ['instruments'],
      summary: 'Counts of active and inactive instruments per segment and type, and the last successful sync',
      response: { 200: InstrumentStats },
    },
  }, async () => store.stats());

  app.get('/api/v1/instruments/:key', {
    schema: {
      tags: ['instruments'],
      summary: 'One instrument by key (URL-encode it: NSE_FO%7C12345), with its source record',
      params: Type.Object({ key: Type.String({ minLength: 1, maxLength: 255 }) }),
      response: { 200: InstrumentDetail, 404: ErrorBody },
    },
  }, async (req, reply) => {
    const { key } = req.params as { key: string };
    const found = await store.getInstrument(key);
    if (!found) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no instrument with key ${key}` } });
    return found;
  });
};
