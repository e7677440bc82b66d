// /api/v1/stats: the aggregates the dashboard's charts draw over a chosen period (src/chart-stats.ts), read-only, for
// the read roles like every other operations read.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { Type, type TSchema } from '@sinclair/typebox';
import type { Database } from '../db/types';
import { chartRangeOf, deliveriesChart, failuresChart, loadsChart, syncsChart, DEFAULT_CHART_DAYS } from '../chart-stats';
import type { ChartRange } from '../db/charts';
import { MAX_STATS_RANGE_DAYS } from '../reporting/stats';
import { ReportingError } from '../reporting/errors';
import { readRoles, requireRole, type RoleAuth } from './auth';
import { RANGE_BOUND_PATTERN } from './date-pattern';
import { ErrorBody } from './schemas';

const Bound = (description: string) => Type.Optional(Type.String({ pattern: RANGE_BOUND_PATTERN, maxLength: 40, description }));
export const ChartQuery = Type.Object({
  from: Bound(`yyyy-MM-dd (midnight UTC) or a time with zone; default: the start of the UTC day ${DEFAULT_CHART_DAYS - 1} days before the day of \`to\``),
  to: Bound('exclusive, yyyy-MM-dd (midnight UTC) or a time with zone; default: now'),
}, { additionalProperties: false });

const Time = Type.String({ format: 'date-time' });
const NullableInt = Type.Union([Type.Integer(), Type.Null()]);
const Period = { from: Time, to: Time };

const LoadsChart = Type.Object({
  ...Period,
  days: Type.Array(Type.Object({
    day: Type.String({ description: 'yyyy-MM-dd, UTC; every day of the period, zeros on days without a load' }),
    loads: Type.Integer({ description: 'loads started that day' }),
    loaded: Type.Integer(), aborted: Type.Integer(), reverted: Type.Integer(), loading: Type.Integer(),
    rows: Type.Integer({ description: 'rows committed by the loaded ones' }),
    avg_duration_ms: Type.Union([Type.Integer(), Type.Null()], { description: 'start to finish, over the loaded ones' }),
    max_duration_ms: NullableInt,
  })),
  totals: Type.Object({ loads: Type.Integer(), loaded: Type.Integer(), aborted: Type.Integer(), rows: Type.Integer() }),
});

const FailuresChart = Type.Object({
  ...Period,
  total: Type.Integer(),
  categories: Type.Array(Type.Object({
    category: Type.Union([Type.String(), Type.Null()], { description: 'failure type, as GET /api/v1/errors/summary names it; null when none was recorded' }),
    files: Type.Integer(),
  })),
});

const DeliveriesChart = Type.Object({
  ...Period,
  channels: Type.Array(Type.Object({
    channel: Type.String(),
    deliveries: Type.Integer(), delivered: Type.Integer(), failed: Type.Integer(), cancelled: Type.Integer(),
    in_progress: Type.Integer({ description: 'pending, sending, retrying or waiting' }),
    success_rate: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], { description: 'delivered / (delivered + failed); null when none finished' }),
    p50_latency_ms: Type.Union([Type.Integer(), Type.Null()], { description: 'nearest-rank median of accepted → delivered, over the delivered ones' }),
    p95_latency_ms: NullableInt,
  })),
});

const SyncsChart = Type.Object({
  ...Period,
  limit: Type.Integer({ description: 'the most syncs returned: the newest of the period' }),
  syncs: Type.Array(Type.Object({
    run_id: Type.String(), status: Type.String(), trigger: Type.String(), started_at: Time,
    added: Type.Integer(), updated: Type.Integer(), deactivated: Type.Integer(), reactivated: Type.Integer(),
    duration_ms: NullableInt,
  }), { description: 'oldest first; counts are 0 for a run that made no report' }),
});

async function answer(reply: FastifyReply, work: () => Promise<unknown>) {
  try {
    return reply.send(await work());
  } catch (err) {
    if (err instanceof ReportingError) return reply.code(err.httpStatus).send({ error: { code: err.code, message: err.message } });
    throw err;
  }
}

export const statsPlugin = (deps: { db: Pick<Database, 'charts'>; auth: RoleAuth }): FastifyPluginAsync => async (app) => {
  const readKey = requireRole(deps.auth, readRoles);
  const range = `The period is [from, to); 400 INVALID_RANGE when from is not before to or the period is longer than ${MAX_STATS_RANGE_DAYS} days.`;
  const chart = (url: string, summary: string, description: string, response: TSchema, work: (r: ChartRange) => Promise<unknown>) =>
    app.get(url, {
      preHandler: readKey,
      schema: {
        tags: ['stats'], summary, description: `${description} ${range}`, security: [{ bearer: [] }], querystring: ChartQuery,
        response: { 200: response, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
      },
    }, async (req, reply) => answer(reply, () => work(chartRangeOf(req.query as { from?: string; to?: string }))));

  chart('/api/v1/stats/loads', 'Loads per UTC day over a period: how many, how they ended, rows and duration',
    'Loads started in the period (ref.loads), grouped by the UTC day they started.', LoadsChart, (r) => loadsChart(deps.db.charts, r));
  chart('/api/v1/stats/failures', 'Files that failed over a period, by failure category',
    'Files that ended in error/ in the period (ref.file_monitor_tracking), by the category their error report recorded.', FailuresChart, (r) => failuresChart(deps.db.charts, r));
  chart('/api/v1/stats/deliveries', 'Delivery success rate and latency percentiles (p50/p95) per channel over a period',
    'Deliveries created in the period (dist.delivery_history), per channel type.', DeliveriesChart, (r) => deliveriesChart(deps.db.charts, r));
  chart('/api/v1/stats/syncs', 'Instrument changes per sync over a period: added, updated, deactivated, reactivated',
    'Instrument syncs started in the period (ref.instrument_sync_runs), oldest first.', SyncsChart, (r) => syncsChart(deps.db.charts, r));
};
