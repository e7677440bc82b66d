// GET /api/v1/errors/summary: failed files of a period grouped by category, table and folder (see src/error-analysis.ts).
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Database } from '../db/types';
import { SinceError, errorSummary, parseSince } from '../error-analysis';
import { ErrorBody } from './schemas';

const Nullable = (t: ReturnType<typeof Type.String>) => Type.Union([t, Type.Null()]);

const Group = Type.Object({
  category: Type.String({ description: 'a failure type (docs/troubleshooting.md), or Uncategorized' }),
  table: Nullable(Type.String()),
  folder: Nullable(Type.String({ description: 'e.g. reference_data_table/fullload' })),
  count: Type.Integer(),
  firstSeen: Type.String({ format: 'date-time' }),
  lastSeen: Type.String({ format: 'date-time' }),
  codes: Type.Record(Type.String(), Type.Integer(), { description: 'detail codes of the error reports, e.g. RAGGED_ROWS' }),
  example: Type.Object({
    file: Type.String(), filePath: Type.String(), message: Type.String(), reportPath: Nullable(Type.String()), workflowId: Nullable(Type.String()),
  }),
});

const Summary = Type.Object({
  since: Type.String({ format: 'date-time' }),
  until: Type.String({ format: 'date-time' }),
  total: Type.Integer(),
  truncated: Type.Boolean(),
  byCategory: Type.Array(Type.Object({ category: Type.String(), count: Type.Integer() })),
  groups: Type.Array(Group),
});

export const errorsPlugin = (deps: { db: Database; dropRoot: string; now?: () => Date }): FastifyPluginAsync => async (app) => {
  app.get('/api/v1/errors/summary', {
    schema: {
      tags: ['errors'],
      summary: 'Failed files of a period grouped by category, table and folder, with counts, first/last seen and an example',
      querystring: Type.Object({
        since: Type.String({ default: '7d', maxLength: 40, description: 'a duration back from now (30m, 12h, 7d, 2w) or an ISO date' }),
      }),
      response: { 200: Summary, 400: ErrorBody },
    },
  }, async (req, reply) => {
    const now = deps.now?.() ?? new Date();
    const { since } = req.query as { since: string };
    let from: Date;
    try {
      from = parseSince(since, now);
    } catch (err) {
      if (err instanceof SinceError) return reply.code(400).send({ error: { code: 'BAD_SINCE', message: err.message.replace('--since', 'since') } });
      throw err;
    }
    return errorSummary(deps.db, deps.dropRoot, from, now);
  });
};
