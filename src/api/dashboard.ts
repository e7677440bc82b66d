// The operations dashboard at `/`: static page, script and styles from src/api/dashboard/, and its session route.
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { AlertConfig, Config } from '../config';
import { loadConfig } from '../config';
import type { Database } from '../db/types';
import type { Notifier } from '../notify/notifier';
import { deliveryErrorText } from '../notify/events';
import { requireRole, type RoleAuth } from './auth';
import { resolveCaller } from '../reporting/api-keys';
import type { Caller } from '../reporting/types';
import { ErrorBody } from './schemas';

/** What the operations side of the API needs beyond the resource plugins: links, thresholds, notifications. */
export interface OperationsOptions {
  /** Base URL of the Temporal Web UI, for the links on every run. */
  temporalUiUrl: string;
  alerts: AlertConfig;
  /** Where the WebSocket stream reads notifications; the process's own by default. */
  notifier?: Notifier;
  /** The state folder whose disk /health and the alerts watch (with the drop folder); absent: host health is not read. */
  host?: { stateDir: string };
}

export function operationsOptions(config: Pick<Config, 'temporal' | 'alerts' | 'stateDir'>): OperationsOptions {
  return { temporalUiUrl: config.temporal.uiUrl, alerts: config.alerts, host: { stateDir: config.stateDir } };
}

/** Without host health: a process given no options watches no folder of its own choosing. */
export function defaultOperationsOptions(): OperationsOptions {
  const { host: _host, ...rest } = operationsOptions(loadConfig({}));
  return rest;
}

/** Who runs operations: operators, and admins (the bootstrap REFDATA_ADMIN_KEY is one). Subscribers do not. */
export const operatorRoles = ['admin', 'operator'] as const;

export function requireOperator(auth: RoleAuth): (req: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
  return requireRole(auth, operatorRoles);
}

/** The same decision for a key that did not come in a header (the WebSocket's first message): the caller, or why not. */
export async function operatorOf(auth: RoleAuth, key: string): Promise<{ caller: Caller } | { refused: 4401 | 4403 }> {
  const caller = await resolveCaller(auth.keys, auth.adminKey, key);
  if (!caller) return { refused: 4401 };
  return (operatorRoles as readonly string[]).includes(caller.role) ? { caller } : { refused: 4403 };
}

const js = 'text/javascript; charset=utf-8';
const assets: Record<string, string> = { 'core.js': js, 'sections.js': js, 'plan.js': js, 'charts.js': js, 'app.js': js, 'style.css': 'text/css; charset=utf-8' };

// The page builds every element from data with textContent and loads nothing from elsewhere: a strict policy costs
// nothing and keeps a file name or an error message from ever running as script.
const securityHeaders = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

export const dashboardPlugin = (deps: { auth: RoleAuth; db: Pick<Database, 'distribution'>; namespace: string; operations: OperationsOptions }): FastifyPluginAsync => async (app) => {
  // Read once: the page is small and a restart is the deployment unit anyway.
  const dir = path.join(__dirname, 'dashboard');
  const index = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
  const files = Object.fromEntries(Object.keys(assets).map((name) => [name, fs.readFileSync(path.join(dir, name), 'utf8')]));

  // The page and its assets are the same for everyone and hold no data: every data call behind them needs a key.
  app.get('/', { config: { access: 'public' }, schema: { hide: true } }, async (_req, reply) => reply.headers(securityHeaders).type('text/html; charset=utf-8').send(index));
  app.get('/dashboard/:asset', { config: { access: 'public' }, schema: { hide: true, params: Type.Object({ asset: Type.String() }) } }, async (req, reply) => {
    const { asset } = req.params as { asset: string };
    if (!(asset in assets)) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no dashboard file ${asset}` } });
    return reply.headers(securityHeaders).type(assets[asset]).send(files[asset]);
  });

  app.get('/api/v1/dashboard/session', {
    preHandler: requireOperator(deps.auth),
    schema: {
      tags: ['dashboard'],
      summary: 'Checks an operator key and returns what the dashboard needs to link runs to the Temporal Web UI',
      security: [{ bearer: [] }],
      response: {
        200: Type.Object({ role: Type.String(), namespace: Type.String(), temporalUiUrl: Type.String() }),
        401: ErrorBody, 403: ErrorBody,
      },
    },
  }, async (req) => ({ role: req.caller?.role ?? 'operator', namespace: deps.namespace, temporalUiUrl: deps.operations.temporalUiUrl.replace(/\/+$/, '') }));

  app.get('/api/v1/dashboard/deliveries', {
    preHandler: requireOperator(deps.auth),
    schema: {
      tags: ['dashboard'],
      summary: 'Recent deliveries of every subscriber for the dashboard: failed first, then in progress, then the rest, newest first',
      security: [{ bearer: [] }],
      querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }) }),
      response: { 200: Type.Object({ items: Type.Array(DeliveryRow) }), 401: ErrorBody, 403: ErrorBody },
    },
  }, async (req) => {
    const { limit } = req.query as { limit: number };
    // Failures are what an operator acts on: read them on their own so a busy day's successes cannot push them out.
    const [failed, recent] = await Promise.all([deps.db.distribution.listDeliveries({ status: 'failed', limit }), deps.db.distribution.listDeliveries({ limit })]);
    const byId = new Map([...failed, ...recent].map((d) => [d.deliveryId, d]));
    const items = [...byId.values()]
      .sort((a, b) => (statusRank[a.status] ?? 9) - (statusRank[b.status] ?? 9) || b.updatedAt.getTime() - a.updatedAt.getTime())
      .slice(0, limit)
      .map((d) => ({
        deliveryId: d.deliveryId, subscriptionId: d.subscriptionId, subscriberId: d.subscriberId, reportId: d.reportId, reportType: d.reportType,
        channel: d.channel, status: d.status, retryCount: d.retryCount, replayCount: d.replayCount, errorDetails: deliveryErrorText(d.errorDetails),
        workflowId: d.workflowId, runId: d.runId, latencyMs: d.latencyMs, createdAt: d.createdAt.toISOString(), updatedAt: d.updatedAt.toISOString(),
      }));
    return { items };
  });
};

const statusRank: Record<string, number> = { failed: 0, waiting: 1, retrying: 1, sending: 2, pending: 3, cancelled: 4, delivered: 5 };

const DeliveryRow = Type.Object({
  deliveryId: Type.String(), subscriptionId: Type.String(), subscriberId: Type.String(), reportId: Type.String(), reportType: Type.String(),
  channel: Type.String(), status: Type.String(), retryCount: Type.Integer(), replayCount: Type.Integer(), errorDetails: Type.Union([Type.String(), Type.Null()]),
  workflowId: Type.String(), runId: Type.Union([Type.String(), Type.Null()]), latencyMs: Type.Union([Type.Number(), Type.Null()]), createdAt: Type.String(), updatedAt: Type.String(),
});
