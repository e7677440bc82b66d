// /api/v1/reference-config: ref.reference_data_cfg checked against the tables that exist, and repaired on request
// (the same check as `refdata config validate [--repair]` and the reference-config-check schedule).
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Database } from '../db/types';
import { checkReferenceConfig } from '../reference-config';
import { requireRole, readRoles, type RoleAuth } from './auth';
import { ErrorBody } from './schemas';

const Problem = Type.Object({
  kind: Type.Union([Type.Literal('orphan'), Type.Literal('missing'), Type.Literal('inactive')], {
    description: 'orphan: an active row whose table is gone; missing: a reference table without a row; inactive: an inactive row whose table exists',
  }),
  table: Type.Object({ schema: Type.String(), name: Type.String() }),
  message: Type.String(),
});

export const referenceConfigPlugin = (deps: { db: Database; auth: RoleAuth }): FastifyPluginAsync => async (app) => {
  app.get('/api/v1/reference-config/problems', {
    preHandler: requireRole(deps.auth, readRoles),
    schema: {
      tags: ['tables'],
      summary: 'Problems of the reference config (ref.reference_data_cfg) against the tables that exist; changes nothing',
      security: [{ bearer: [] }],
      response: { 200: Type.Object({ problems: Type.Array(Problem) }), 401: ErrorBody, 403: ErrorBody },
    },
  }, async () => ({ problems: (await checkReferenceConfig(deps.db, false)).found }));

  app.post('/api/v1/reference-config/repair', {
    preHandler: requireRole(deps.auth, ['admin', 'operator']),
    schema: {
      tags: ['tables'],
      summary: 'Repair the reference config: deactivate orphaned rows, insert missing ones, reactivate rows whose table is back',
      description: 'Answers what was found, what was repaired and what remains (empty after a full repair). Idempotent: a second call finds nothing.',
      security: [{ bearer: [] }],
      response: {
        200: Type.Object({ found: Type.Array(Problem), repaired: Type.Array(Type.String()), remaining: Type.Array(Problem) }),
        401: ErrorBody, 403: ErrorBody,
      },
    },
  }, async () => checkReferenceConfig(deps.db, true));
};
