// GET /health: database, Temporal and drop folders, each with status and latency; 503 when one is down.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Client } from '@temporalio/client';
import type { Database } from '../db/types';
import { dropFolderTree } from '../drop-folders';
import { resolveCaller } from '../reporting/api-keys';
import { bearerToken, type RoleAuth } from './auth';

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

const Health = Type.Object({
  status: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  checks: Type.Optional(Type.Object({ database: Check, temporal: Check, dropFolders: Check })),
});

export const healthPlugin = (deps: { db: Database; client: Client; dropRoot: string; auth: RoleAuth }): FastifyPluginAsync => async (app) => {
  app.get('/health', {
    // Load balancers ask without a key: they get up or down and nothing else (no error text, no latencies).
    config: { access: 'public' },
    schema: {
      tags: ['health'],
      summary: 'Up or down; with an API key (any role) also each check of the database, Temporal and the drop folders',
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
    return reply.code(down ? 503 : 200).send(caller ? { status: down ? 'down' : 'up', checks } : { status: down ? 'down' : 'up' });
  });
};
