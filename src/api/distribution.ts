// Distribution runs: start one now (`POST /distribute-full`, `POST /distribute-delta`, the original names, also under
// /api/v1/distribution/), list them, one run with its files, counts and deliveries, and download a run's file.
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { loadConfig } from '../config';
import { Type } from '@sinclair/typebox';
import type { Client } from '@temporalio/client';
import type { ChannelType } from '../channels/types';
import type { Database } from '../db/types';
import type { DeliveryRetryPolicy } from '../reporting/retry-policy';
import type { DistributionRunStatus } from '../db/distribution-runs';
import { addDays, localDate, parseBusinessDate } from '../distribution/business-date';
import { retryFailedDistributions } from '../distribution/retry';
import { contentTypeOf, isRunKey, type DistributionKind } from '../distribution/file-names';
import { describeDistribution, distributionRequestOf, startDistribution } from '../distribution/start';
import type { DistributionConfig } from '../distribution/types';
import { deliveryStatusesOf, runSummaryOf } from '../distribution/views';
import { requireRole, type RoleAuth } from './auth';
import { CALENDAR_DATE_PATTERN } from './date-pattern';
import { RetryFailedBody, RetryFailedResponse, RunConflict, RunDetailView, RunStarted, RunSummaryView } from './distribution-schemas';
import { ErrorBody } from './schemas';

export interface DistributionApiDeps {
  db: Database;
  client: Client;
  auth: RoleAuth;
  config: Pick<DistributionConfig, 'schedule' | 'businessDateLagDays'>;
  /** The clock that decides "today" and an intraday suffix; tests pin it. */
  now?: () => Date;
  /** Retry policies of replayed deliveries (REFDATA_DELIVERY_RETRY); the documented defaults when absent. */
  retry?: Record<ChannelType, DeliveryRetryPolicy>;
}

const staff = ['admin', 'operator'] as const;
const notFound = (reply: FastifyReply, message: string) => reply.code(404).send({ error: { code: 'NOT_FOUND', message } });

export const distributionPlugin = (deps: DistributionApiDeps): FastifyPluginAsync => async (app) => {
  const store = deps.db.distributionRuns;
  const now = deps.now ?? (() => new Date());

  /** The original routes take no body; a JSON body or `?date=` may name the business date of a full run. */
  async function start(kind: DistributionKind, req: FastifyRequest, reply: FastifyReply) {
    const body = (req.body ?? {}) as { date?: unknown };
    const given = (req.query as { date?: string }).date ?? body.date;
    if (given !== undefined && (typeof given !== 'string' || parseBusinessDate(given) === null)) {
      return reply.code(400).send({ error: { code: 'BAD_REQUEST', message: `date ${JSON.stringify(given)} is not a calendar date (yyyy-MM-dd or yyyyMMdd)` } });
    }
    if (kind === 'delta' && given !== undefined) {
      return reply.code(400).send({ error: { code: 'BAD_REQUEST', message: 'an intraday delta is always taken now; give a date only to distribute-full' } });
    }
    const request = distributionRequestOf(kind, { businessDate: given === undefined ? undefined : parseBusinessDate(given)!, now: now(), config: deps.config });
    const started = await startDistribution(deps.client, request, 'api');
    const url = `/api/v1/distribution/runs/${started.runId}`;
    if (!started.started) {
      return reply.code(409).send({
        error: { code: 'DISTRIBUTION_RUNNING' as const, message: `distribution ${started.runId} is already running; follow it at ${url}`, runId: started.runId, workflowId: started.workflowId, workflowRunId: started.workflowRunId },
      });
    }
    return reply.code(202).send({ ...started, businessDate: request.businessDate, kind, status: 'started' as const, url });
  }

  const startSchema = (kind: DistributionKind, original: boolean) => ({
    preHandler: requireRole(deps.auth, staff),
    schema: {
      tags: ['distribution'],
      summary: kind === 'full'
        ? `Start the nightly set now: full, delta, cancellation, invalid and manifest${original ? ' (original route name)' : ''}`
        : `Start an intraday delta now: what changed since the last watermark${original ? ' (original route name)' : ''}`,
      description: kind === 'full'
        ? 'Without a date: the business date the nightly run would send now. A date already sent is re-run with its recorded watermark range (byte-identical files if the data did not change). Give the date as `?date=` or a JSON body `{"date":"2025-06-21"}`.'
        : 'Files are named `<YYYYMMDD>T<HHmmss>_<type>` in the distribution time zone.',
      security: [{ bearer: [] }],
      // Deltas take no date (400 names why); a full run's date is a calendar date, yyyy-MM-dd or yyyyMMdd.
      querystring: kind === 'full'
        ? Type.Object({ date: Type.Optional(Type.String({ pattern: CALENDAR_DATE_PATTERN, description: 'yyyy-MM-dd or yyyyMMdd, a day that exists (2025-02-30 is 400)' })) })
        : Type.Object({}),
      response: { 202: RunStarted, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 409: RunConflict },
    },
  });
  for (const [url, kind, original] of [
    ['/distribute-full', 'full', true], ['/api/v1/distribution/distribute-full', 'full', false],
    ['/distribute-delta', 'delta', true], ['/api/v1/distribution/distribute-delta', 'delta', false],
  ] as const) {
    app.post(url, startSchema(kind, original), (req, reply) => start(kind, req, reply));
  }

  app.post('/api/v1/distribution/retry-failed', {
    preHandler: requireRole(deps.auth, staff),
    schema: {
      tags: ['distribution'],
      summary: 'Retry what failed (as `refdata distribute retry-failed`): failed or cancelled runs start again with their recorded range, failed deliveries of the other runs are replayed',
      description: 'Without a date: every run whose business date is on or after `since` (default: 7 days back in the distribution time zone). Replays are new runs of the same delivery ids (same webhook-id, so receivers deduplicate).',
      security: [{ bearer: [] }],
      body: Type.Optional(RetryFailedBody),
      response: { 200: RetryFailedResponse, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
    },
  }, async (req, reply) => {
    const body = (req.body ?? {}) as { date?: string; since?: string };
    const date = body.date === undefined ? undefined : parseBusinessDate(body.date);
    const since = body.since === undefined ? addDays(localDate(now(), deps.config.schedule.timeZone), -7) : parseBusinessDate(body.since);
    if (date === null || since === null) {
      return reply.code(400).send({ error: { code: 'BAD_REQUEST', message: `${date === null ? `date ${JSON.stringify(body.date)}` : `since ${JSON.stringify(body.since)}`} is not a calendar date (yyyy-MM-dd or yyyyMMdd)` } });
    }
    const summary = await retryFailedDistributions({ db: deps.db, client: deps.client, retry: deps.retry ?? loadConfig({}).reporting.retry }, { businessDate: date, since });
    return { ...summary, businessDate: date ?? null, since: date === undefined ? since : null };
  });

  app.get('/api/v1/distribution/runs', {
    preHandler: requireRole(deps.auth, staff),
    schema: {
      tags: ['distribution'],
      summary: 'Distribution runs, newest business date first',
      security: [{ bearer: [] }],
      querystring: Type.Object({
        date: Type.Optional(Type.String({ format: 'date' })),
        status: Type.Optional(Type.Union(['running', 'succeeded', 'failed', 'cancelled'].map((s) => Type.Literal(s)))),
        limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
      }),
      response: { 200: Type.Object({ items: Type.Array(RunSummaryView) }) },
    },
  }, async (req) => {
    const q = req.query as { date?: string; status?: DistributionRunStatus; limit: number };
    return { items: (await store.listRuns({ businessDate: q.date, status: q.status, limit: q.limit })).map(runSummaryOf) };
  });

  app.get('/api/v1/distribution/runs/:id', {
    preHandler: requireRole(deps.auth, staff),
    schema: {
      tags: ['distribution'],
      summary: 'One run: watermark range, files, row counts, each delivery\'s status, and its progress while it runs',
      security: [{ bearer: [] }],
      params: Type.Object({ id: Type.String({ minLength: 8, maxLength: 15 }) }),
      response: { 200: RunDetailView, 404: ErrorBody },
    },
  }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const [run, workflow] = await Promise.all([store.getRun(id), isRunKey(id) ? describeDistribution(deps.client, id) : null]);
    if (!run) return notFound(reply, `no distribution run ${id}`);
    const progress = (workflow?.progress as Record<string, unknown> | null) ?? null;
    return { ...runSummaryOf(run), deliveries: await deliveryStatusesOf(deps.db, run), workflow: workflow ? { status: workflow.status, workflowRunId: workflow.workflowRunId, progress } : null };
  });

  app.get('/api/v1/distribution/runs/:id/files/:name', {
    preHandler: requireRole(deps.auth, staff),
    schema: {
      tags: ['distribution'],
      summary: 'Download one file of a run (streamed); only the files the run recorded',
      security: [{ bearer: [] }],
      params: Type.Object({ id: Type.String({ minLength: 8, maxLength: 15 }), name: Type.String({ minLength: 1, maxLength: 255 }) }),
      response: {
        200: { description: 'the file as written (CSV or JSON), streamed', content: { 'text/csv': { schema: { type: 'string' } }, 'application/json': { schema: {} } } },
        404: ErrorBody,
      },
    },
  }, async (req, reply) => {
    const { id, name } = req.params as { id: string; name: string };
    const run = await store.getRun(id);
    // Only names the run recorded: a name from the URL never reaches the file system otherwise.
    const file = run?.files.find((f) => f.name === name);
    if (!run || !file || !run.directory) return notFound(reply, `distribution run ${id} has no file ${name}`);
    const full = path.join(run.directory, file.name);
    const st = await fs.promises.stat(full).catch(() => null);
    if (!st || !st.isFile()) return notFound(reply, `${file.name} of run ${id} is no longer at ${run.directory}; its backup copy may still exist`);
    return reply
      .header('content-type', contentTypeOf(file.name))
      .header('content-length', st.size)
      .header('content-disposition', `attachment; filename="${file.name}"`)
      .header('etag', `"${file.sha256}"`)
      .send(fs.createReadStream(full));
  });
};
