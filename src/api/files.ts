// /api/v1/files: the tracking ledger, with live progress and cancellation from the file's workflow.
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Client } from '@temporalio/client';
import type { Database, TrackingRecord } from '../db/types';
import { ErrorBody, FileItem, type FileItemT } from './schemas';
import { requireRole } from './auth';
import { progressQuery } from '../../workflows/file-lifecycle';
import { cancelRefusal } from '../cancel-policy';

const statuses = ['waiting', 'planning', 'loading', 'finishing', 'loaded', 'error', 'cancelled', 'duplicate', 'vanished'] as const;

export function toFileItem(r: TrackingRecord): FileItemT {
  return {
    id: r.id, fileName: r.fileName, filePath: r.filePath, status: r.status, tableName: r.tableName, loadType: r.loadType,
    rowsLoaded: r.rowsLoaded, rowsQuarantined: r.rowsQuarantined, archivedPath: r.archivedPath, runId: r.runId, workflowId: r.workflowId, error: r.errorMessage, fileSize: r.fileSize, fileHash: r.fileHash,
    isReferenceData: r.isReferenceData, detectedDelimiter: r.detectedDelimiter, detectedHeaders: r.detectedHeaders,
    createdAt: r.createdAt.toISOString(), processedAt: r.processedAt ? r.processedAt.toISOString() : null,
  };
}

export const filesPlugin = (deps: { db: Database; client: Client; adminKey?: string }): FastifyPluginAsync => async (app) => {
  app.get('/api/v1/files', {
    schema: {
      tags: ['files'],
      summary: 'Recent dropped files, newest first: each path\'s current (newest) drop, or every drop with history=true',
      querystring: Type.Object({
        history: Type.Optional(Type.Boolean({ default: false, description: 'every drop of each path (one row per drop), not only the newest' })),
        status: Type.Optional(Type.Union(statuses.map((s) => Type.Literal(s)))),
        table: Type.Optional(Type.String({ maxLength: 128 })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
      }),
      response: { 200: Type.Object({ items: Type.Array(FileItem) }) },
    },
  }, async (req) => {
    const q = req.query as { status?: (typeof statuses)[number]; table?: string; limit?: number; history?: boolean };
    const rows = await deps.db.listTracking({ status: q.status, table: q.table, limit: q.limit, latestPerPath: !q.history });
    return { items: rows.map(toFileItem) };
  });

  app.get('/api/v1/files/:id', {
    schema: {
      tags: ['files'],
      summary: 'One file: its tracking row and, while its workflow runs, live progress',
      params: Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'ref.file_monitor_tracking.id (a 32-bit integer)' }) }),
      response: {
        200: Type.Intersect([FileItem, Type.Object({ progress: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]) })]),
        404: ErrorBody,
      },
    },
  }, async (req, reply) => {
    const { id } = req.params as { id: number };
    const rec = await deps.db.getTracking(id);
    if (!rec) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no file with id ${id}` } });
    let progress: Record<string, unknown> | null = null;
    if (rec.workflowId) {
      progress = (await deps.client.workflow.getHandle(rec.workflowId, rec.runId ?? undefined).query(progressQuery).catch(() => null)) as Record<string, unknown> | null;
    }
    return { ...toFileItem(rec), progress };
  });

  app.post('/api/v1/files/:id/cancel', {
    // Operators cancel from the dashboard; admins may too.
    preHandler: requireRole({ adminKey: deps.adminKey, keys: deps.db.distribution }, ['admin', 'operator']),
    schema: {
      tags: ['files'],
      summary: 'Cancel the file\'s workflow; its compensation removes any rows and moves the file to error/',
      description: '409 NOT_RUNNING when the run has ended; 409 TOO_LATE once it has started finishing (it goes to its end: revert the load instead); 409 ALREADY_UNDOING while it compensates.',
      security: [{ bearer: [] }],
      params: Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'ref.file_monitor_tracking.id (a 32-bit integer)' }) }),
      response: { 202: Type.Object({ id: Type.Integer(), workflowId: Type.String(), status: Type.Literal('cancelling') }), 404: ErrorBody, 409: ErrorBody },
    },
  }, async (req, reply) => {
    const { id } = req.params as { id: number };
    const rec = await deps.db.getTracking(id);
    if (!rec || !rec.workflowId) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no file with id ${id}` } });
    // The run of this drop: an earlier drop's row must not cancel the path's newer run.
    const handle = deps.client.workflow.getHandle(rec.workflowId, rec.runId ?? undefined);
    const desc = await handle.describe().catch(() => null);
    if (!desc || desc.status.name !== 'RUNNING') {
      return reply.code(409).send({ error: { code: 'NOT_RUNNING', message: `the workflow of file ${id} is not running (${desc?.status.name ?? 'unknown'})` } });
    }
    // A run that cannot be stopped any more is not answered "cancelling" (it would end loaded).
    const progress = await handle.query(progressQuery).catch(() => null);
    const refusal = cancelRefusal(id, progress?.phase ?? null, progress?.loadId ?? null);
    if (refusal) return reply.code(409).send({ error: refusal });
    await handle.cancel();
    return reply.code(202).send({ id, workflowId: rec.workflowId, status: 'cancelling' as const });
  });
};
