// /api/v1/loads: load history, and reverting a finished load (admin).
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Database } from '../db/types';
import { ErrorBody } from './schemas';
import { requireRole } from './auth';
import { LoadNotFound, revertLoad, toLoadView } from '../loads';
import type { Notifier } from '../notify/notifier';
import { announceLoadReverted } from '../notify/events';

const Load = Type.Object({
  loadId: Type.String(), table: Type.String(), mode: Type.String(), status: Type.String(), filePath: Type.String(),
  fileHash: Type.Union([Type.String(), Type.Null()]), rows: Type.Integer(), quarantined: Type.Integer(), batches: Type.Integer(),
  backup: Type.Union([Type.String(), Type.Null()]), startedAt: Type.String(), finishedAt: Type.Union([Type.String(), Type.Null()]),
});

export const loadsPlugin = (deps: { db: Database; adminKey?: string; notifier?: Notifier }): FastifyPluginAsync => async (app) => {
  app.get('/api/v1/loads', {
    schema: {
      tags: ['loads'],
      summary: 'Recent loads, newest first',
      querystring: Type.Object({
        table: Type.Optional(Type.String({ maxLength: 128 })),
        status: Type.Optional(Type.Union(['loading', 'loaded', 'aborted', 'reverted'].map((s) => Type.Literal(s)))),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
      }),
      response: { 200: Type.Object({ items: Type.Array(Load) }) },
    },
  }, async (req) => {
    const q = req.query as { table?: string; status?: 'loading' | 'loaded' | 'aborted' | 'reverted'; limit?: number };
    return { items: (await deps.db.listLoads(q)).map(toLoadView) };
  });

  app.post('/api/v1/loads/:loadId/revert', {
    // Operators revert from the dashboard; admins may too.
    preHandler: requireRole({ adminKey: deps.adminKey, keys: deps.db.distribution }, ['admin', 'operator']),
    schema: {
      tags: ['loads'],
      summary: 'Undo a finished load: the bkp copy comes back (fullload) or its rows are deleted (append)',
      security: [{ bearer: [] }],
      params: Type.Object({ loadId: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) }),
      response: { 200: Load, 404: ErrorBody, 409: ErrorBody },
    },
  }, async (req, reply) => {
    const { loadId } = req.params as { loadId: string };
    try {
      const reverted = await revertLoad(deps.db, loadId);
      announceLoadReverted(req.log, deps.notifier, reverted);
      return reverted;
    } catch (err) {
      if (err instanceof LoadNotFound) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: err.message } });
      return reply.code(409).send({ error: { code: 'CANNOT_REVERT', message: (err as Error).message } });
    }
  });
};
