// GET /health: database, Temporal and drop folders, each with status and latency; 503 when one is down. With a key
// it also shows the host: free disk of the drop, archive and state folders, memory, and each task queue's pollers.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Client } from '@temporalio/client';
import type { Database } from '../db/types';
import { dropFolderTree } from '../drop-folders';
import { resolveCaller } from '../reporting/api-keys';
import { bearerToken, type RoleAuth } from './auth';
import type { HostSnapshot } from '../metrics/host-health';

const Check = Type.Object({ status: Type.Union([Type.Literal('up'), Type.Literal('down')]), latencyMs: Type.Number(), error: Type.Optional(Type.String()) });

async function timed(fn: () => Promise<unknown>, timeoutMs = 3000): Promise<{ status: 'up' | 'down'; latencyMs: number; error?: string }> {
  const start = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([fn(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)))]);
    return { status: 'up', latencyMs: Math.round(performance.now() - start) };
  } catch (err) {
    return { status: 'down', latencyMs: Math.round(performance.now() - start), error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

const Host = Type.Object({
  disk: Type.Array(Type.Object({
    folder: Type.String({ description: 'drop, archive (the fullest processed/ or error/ folder) or state' }),
    path: Type.String(),
    freeBytes: Type.Optional(Type.Number({ description: 'free to an unprivileged process' })),
    sizeBytes: Type.Optional(Type.Number()),
    error: Type.Optional(Type.String()),
  })),
  memory: Type.Object({ rssBytes: Type.Number(), heapUsedBytes: Type.Number(), hostFreeBytes: Type.Number(), hostTotalBytes: Type.Number() }),
  taskQueues: Type.Array(Type.Object({
    taskQueue: Type.String(),
    pollers: Type.Number({ description: 'workers that polled in the last 2 minutes; 0 = nothing runs this queue' }),
    workflowPollers: Type.Number(),
    activityPollers: Type.Number(),
    lastPollAt: Type.Optional(Type.String({ format: 'date-time' })),
    error: Type.Optional(Type.String()),
  })),
}, { description: 'The host and its workers (REFDATA_ALERT_DISK_FREE_MB, REFDATA_ALERT_MEMORY_RSS_MB and REFDATA_ALERT_TASK_QUEUES raise alerts on them)' });

const Health = Type.Object({
  status: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  checks: Type.Optional(Type.Object({ database: Check, temporal: Check, dropFolders: Check })),
  host: Type.Optional(Host),
});

export const healthPlugin = (deps: { db: Database; client: Client; dropRoot: string; auth: RoleAuth; host?: () => Promise<HostSnapshot> }): FastifyPluginAsync => async (app) => {
  app.get('/health', {
    // Load balancers ask without a key: they get up or down and nothing else (no error text, no latencies).
    config: { access: 'public' },
    schema: {
      tags: ['health'],
      summary: 'Up or down; with an API key (any role) also each check of the database, Temporal and the drop folders, and the host (disk, memory, task-queue pollers)',
      response: { 200: Health, 503: Health },
    },
  }, async (req, reply) => {
    const [database, temporal, dropFolders] = await Promise.all([
      timed(() => deps.db.ping()),
      timed(() => deps.client.workflowService.getSystemInfo({})),
      timed(async () => {
        for (const dir of dropFolderTree()) await fs.access(path.join(deps.dropRoot, dir), fs.constants.W_OK);
      }),
    ]);
    const checks = { database, temporal, dropFolders };
    const down = Object.values(checks).some((c) => c.status === 'down');
    const token = bearerToken(req);
    const caller = token ? await resolveCaller(deps.auth.keys, deps.auth.adminKey, token).catch(() => null) : null;
    if (!caller) return reply.code(down ? 503 : 200).send({ status: down ? 'down' : 'up' });
    // Detail, not a verdict: low disk or an idle queue raises an alert but leaves the API itself up for the balancer.
    const host = deps.host ? await deps.host().catch(() => undefined) : undefined;
    return reply.code(down ? 503 : 200).send({ status: down ? 'down' : 'up', checks, ...(host ? { host } : {}) });
  });
};
