// GET /health: database, Temporal and drop folders, each with status and latency; 503 when one is down.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Client } from '@temporalio/client';
import type { Database } from '../db/types';
import { dropFolderTree } from '../drop-folders';

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

export const healthPlugin = (deps: { db: Database; client: Client; dropRoot: string }): FastifyPluginAsync => async (app) => {
  app.get('/health', {
    schema: {
      tags: ['health'],
      summary: 'Health of the database, Temporal and the drop folders',
      response: {
        200: Type.Object({ status: Type.String(), checks: Type.Object({ database: Check, temporal: Check, dropFolders: Check }) }),
        503: Type.Object({ status: Type.String(), checks: Type.Object({ database: Check, temporal: Check, dropFolders: Check }) }),
      },
    },
  }, async (_req, reply) => {
    const [database, temporal, dropFolders] = await Promise.all([
      timed(() => deps.db.ping()),
      timed(() => deps.client.workflowService.getSystemInfo({})),
      timed(async () => {
        for (const dir of dropFolderTree()) await fs.access(path.join(deps.dropRoot, dir), fs.constants.W_OK);
      }),
    ]);
    const checks = { database, temporal, dropFolders };
    const down = Object.values(checks).some((c) => c.status === 'down');
    return reply.code(down ? 503 : 200).send({ status: down ? 'down' : 'up', checks });
  });
};
