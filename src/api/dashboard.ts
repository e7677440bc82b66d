// The operations dashboard at `/`: static page, script and styles from src/api/dashboard/, and its session route.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { AlertConfig, Config } from '../config';
import { loadConfig } from '../config';
import type { Notifier } from '../notify/notifier';
import { requireAdmin } from './auth';
import { ErrorBody } from './schemas';

/** What the operations side of the API needs beyond the resource plugins: links, thresholds, notifications. */
export interface OperationsOptions {
  /** Base URL of the Temporal Web UI, for the links on every run. */
  temporalUiUrl: string;
  alerts: AlertConfig;
  /** Where the WebSocket stream reads notifications; the process's own by default. */
  notifier?: Notifier;
}

export function operationsOptions(config: Pick<Config, 'temporal' | 'alerts'>, temporalUiUrl?: string | null): OperationsOptions {
  return { temporalUiUrl: temporalUiUrl ?? config.temporal.uiUrl, alerts: config.alerts };
}

export function defaultOperationsOptions(): OperationsOptions {
  return operationsOptions(loadConfig({}));
}

/**
 * Operator access. Until API keys with roles exist only the admin key is known, and it counts as an operator;
 * with roles this becomes `requireRole('operator')` (admins pass too).
 */
export function requireOperator(adminKey: string | undefined): (req: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
  return requireAdmin(adminKey);
}

/** The same decision for a key that did not come in a header (the WebSocket's first message). */
export function isOperatorKey(adminKey: string | undefined, key: string): boolean {
  if (!adminKey) return false;
  const digest = (s: string) => crypto.createHash('sha256').update(s).digest();
  return crypto.timingSafeEqual(digest(key), digest(adminKey));
}

const js = 'text/javascript; charset=utf-8';
const assets: Record<string, string> = { 'core.js': js, 'sections.js': js, 'app.js': js, 'style.css': 'text/css; charset=utf-8' };

// The page builds every element from data with textContent and loads nothing from elsewhere: a strict policy costs
// nothing and keeps a file name or an error message from ever running as script.
const securityHeaders = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

export const dashboardPlugin = (deps: { adminKey?: string; namespace: string; operations: OperationsOptions }): FastifyPluginAsync => async (app) => {
  // Read once: the page is small and a restart is the deployment unit anyway.
  const dir = path.join(__dirname, 'dashboard');
  const index = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
  const files = Object.fromEntries(Object.keys(assets).map((name) => [name, fs.readFileSync(path.join(dir, name), 'utf8')]));

  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.headers(securityHeaders).type('text/html; charset=utf-8').send(index));
  app.get('/dashboard/:asset', { schema: { hide: true, params: Type.Object({ asset: Type.String() }) } }, async (req, reply) => {
    const { asset } = req.params as { asset: string };
    if (!(asset in assets)) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no dashboard file ${asset}` } });
    return reply.headers(securityHeaders).type(assets[asset]).send(files[asset]);
  });

  app.get('/api/v1/dashboard/session', {
    preHandler: requireOperator(deps.adminKey),
    schema: {
      tags: ['dashboard'],
      summary: 'Checks an operator key and returns what the dashboard needs to link runs to the Temporal Web UI',
      security: [{ bearer: [] }],
      response: {
        200: Type.Object({ role: Type.String(), namespace: Type.String(), temporalUiUrl: Type.String() }),
        401: ErrorBody, 403: ErrorBody, 503: ErrorBody,
      },
    },
  }, async () => ({ role: 'operator', namespace: deps.namespace, temporalUiUrl: deps.operations.temporalUiUrl.replace(/\/+$/, '') }));
};
