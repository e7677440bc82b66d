// The API server: fastify with one plugin per resource, OpenAPI document and UI at /docs.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import rateLimit from '@fastify/rate-limit';
import type { Client } from '@temporalio/client';
import type { Database } from '../db/types';
import type { Logger } from '../log/logger';
import { healthPlugin } from './health';
import { filesPlugin } from './files';
import { instrumentsPlugin, type SyncSourcePolicy } from './instruments';
import { loadsPlugin } from './loads';
import { tablesPlugin } from './tables';
import { referenceConfigPlugin } from './reference-config';
import { planPlugin } from './plan';
import { fileIntakePlugin } from './file-intake';
import { errorsPlugin } from './errors';
import { dashboardPlugin, defaultOperationsOptions, type OperationsOptions } from './dashboard';
import { eventsPlugin } from './events';
import { statsPlugin } from './stats';
import { notificationsPlugin } from './notifications';
import { metricsPlugin } from './metrics';
import { reportingPlugin, reportingOptionsFrom, type ReportingApiOptions } from './reporting';
import { loadConfig } from '../config';
import { distributionPlugin } from './distribution';
import { downloadsPlugin } from './downloads';
import { downloadKeyFrom } from '../reporting/download-links';
import type { DistributionConfig } from '../distribution/types';
import { processNotifier } from '../notify/notifier';
import { ErrorBody } from './schemas';
import { ownRoute, trackRoutes } from './route-owner';
import { allowedMethods, documentRoute, refuseNulBytes } from './route-schema';
import { rateLimitKey } from './rate-limit';
import { createStreamLimiter } from './stream-limits';
import { readHost } from '../metrics/host-health';
import { taskQueues } from '../ids';

export interface ApiDeps {
  db: Database;
  client: Client;
  log: Logger;
  dropRoot: string;
  adminKey?: string;
  /** Largest upload POST /api/v1/plan accepts (REFDATA_PLAN_MAX_BYTES); its documented default when absent. */
  planMaxBytes?: number;
  /** Largest upload POST /api/v1/files accepts (REFDATA_UPLOAD_MAX_BYTES); its documented default when absent. */
  uploadMaxBytes?: number;
  /** Stability settings handed to the file workflows the API starts (they skip the wait); documented defaults when absent. */
  stability?: { checks: number; intervalMs: number; maxWaitMs: number };
  /** Largest body of every other request (REFDATA_BODY_MAX_BYTES); its documented default when absent. */
  bodyMaxBytes?: number;
  /** Dashboard links, alert thresholds, notifier (src/api/dashboard.ts); documented defaults when absent. */
  operations?: OperationsOptions;
  /** Report distribution: secrets key, destinations, report roots, retry policies, stream (src/api/reporting.ts); documented defaults and no secrets key when absent. */
  reporting?: ReportingApiOptions;
  /** Time zone and business-date lag of "distribute now" (src/api/distribution.ts); documented defaults when absent. */
  distribution?: Pick<DistributionConfig, 'schedule' | 'businessDateLagDays'>;
  /** Where POST /api/v1/instruments/sync may point a run (INSTRUMENTS_FILE_DIR, REFDATA_ALLOW_PRIVATE_DESTINATIONS); documented defaults when absent. */
  instruments?: SyncSourcePolicy;
  /** REFDATA_OPEN_READS: GET routes without a role of their own answer without a key (off by default; docs/operations.md says the risk). */
  openReads?: boolean;
  /** REFDATA_RATE_LIMIT_MAX / _WINDOW_MS: requests per key (or per client address without a valid key) per window; documented defaults when absent. */
  rateLimit?: { max: number; windowMs: number };
  /** Open WebSocket streams one key may hold (REFDATA_STREAMS_PER_KEY). */
  streamsPerKey?: number;
  /** Time a client has to send its whole request (REFDATA_REQUEST_TIMEOUT_MS). */
  requestTimeoutMs?: number;
}

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  // removeAdditional off: a field a schema does not allow is a 400 naming it, not silently dropped (a misplaced
  // `encryption_required` must not turn into a report sent in clear).
  // Path parameters up to 2048 characters reach validation (their own maxLength answers 400); longer ones get 414.
  // bodyLimit: every route's small default; the plan upload is multipart, read by its own plugin under its own limit.
  const bodyMaxBytes = deps.bodyMaxBytes ?? loadConfig({}).api.bodyMaxBytes;
  // A client that trickles its request is cut off (408) instead of holding a connection open for as long as it likes.
  const app = Fastify({ bodyLimit: bodyMaxBytes, requestTimeout: deps.requestTimeoutMs ?? loadConfig({}).api.requestTimeoutMs, routerOptions: { maxParamLength: 2048 }, loggerInstance: deps.log.child({ component: "api" }), ajv: { customOptions: { removeAdditional: false } } }) as unknown as FastifyInstance;
  app.addSchema(ErrorBody);
  await app.register(swagger, {
    openapi: {
      info: { title: 'refdata API', version: '0.1.0', description: 'Reference-data ingestion, sync and distribution.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  const auth = { adminKey: deps.adminKey, keys: deps.db.distribution };
  // Whose bucket a request counts against, by its key's id; an app hook runs before the limiter's route-level one.
  app.addHook('onRequest', async (req) => {
    req.rateLimitKey = await rateLimitKey(req, auth);
  });
  // Registered before the owner hook below, so its route hook comes before the key check: a flood of requests
  // without the right key is throttled too, not only answered 401/403.
  const limits = deps.rateLimit ?? loadConfig({}).api.rateLimit;
  await app.register(rateLimit, {
    max: limits.max,
    timeWindow: limits.windowMs,
    keyGenerator: (req) => req.rateLimitKey ?? `ip:${req.ip}`,
    errorResponseBuilder: (_req, ctx) =>
      Object.assign(new Error(`too many requests: at most ${ctx.max} per ${limits.windowMs / 1000} s for this key (or client address without one); retry in ${ctx.after}`), { statusCode: ctx.statusCode, code: 'RATE_LIMITED' }),
  });
  app.decorate('streamLimiter', createStreamLimiter(deps.streamsPerKey ?? loadConfig({}).api.streamsPerKey));
  // Every route has an owner, decided here for all plugins (and /docs, registered after this hook).
  const table = trackRoutes(app);
  app.addHook('onRoute', (route) => {
    ownRoute(route, auth, deps.openReads ?? false, table);
    documentRoute(route);
  });
  app.addHook('preValidation', refuseNulBytes);
  await app.register(swaggerUi, { routePrefix: '/docs' });
  // Once, at the root: every WebSocket route (events, reporting) shares the one upgrade handler.
  await app.register(websocket);

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown; code?: string }, req, reply) => {
    // fastify refuses a body method without Content-Type (QUERY, say) before it looks for a route: no route, no 400.
    if (err.code === 'FST_ERR_ROUTE_MISSING_CONTENT_TYPE' && !req.routeOptions.url) return notFound(req, reply);
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({ error: { code: 'BODY_TOO_LARGE', message: `the request body is larger than ${bodyMaxBytes} bytes (REFDATA_BODY_MAX_BYTES); files to plan go to POST /api/v1/plan as an upload` } });
    }
    if (err.validation) return reply.code(400).send({ error: { code: 'BAD_REQUEST', message: err.message } });
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    return reply.code(status).send({ error: { code: status >= 500 ? 'INTERNAL' : (err.code ?? 'ERROR'), message: status >= 500 ? 'internal error; see the API log' : err.message } });
  });
  const notFound = (req: FastifyRequest, reply: FastifyReply) => {
    const pathname = req.url.split('?')[0]!;
    const allow = allowedMethods(table, pathname);
    if (allow.length > 0) {
      return reply.code(405).header('allow', allow.join(', ')).send({ error: { code: 'METHOD_NOT_ALLOWED', message: `${req.method} is not served on this path; it takes ${allow.join(', ')}` } });
    }
    return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${pathname}` } });
  };
  app.setNotFoundHandler(notFound);

  const operations = deps.operations ?? defaultOperationsOptions();
  const hostDir = operations.host;
  const host = hostDir
    ? () => readHost({ dropRoot: deps.dropRoot, stateDir: hostDir.stateDir, taskQueues: Object.values(taskQueues), temporal: { workflowService: deps.client.workflowService, namespace: deps.client.options.namespace } })
    : undefined;
  await app.register(healthPlugin({ db: deps.db, client: deps.client, dropRoot: deps.dropRoot, auth, host }));
  await app.register(filesPlugin({ db: deps.db, client: deps.client, adminKey: deps.adminKey }));
  await app.register(instrumentsPlugin({ db: deps.db, client: deps.client, auth, policy: deps.instruments ?? loadConfig({}).instruments }));
  await app.register(tablesPlugin({ db: deps.db }));
  await app.register(fileIntakePlugin({ auth, db: deps.db, client: deps.client, dropRoot: deps.dropRoot, maxBytes: deps.uploadMaxBytes ?? loadConfig({}).api.uploadMaxBytes, stability: deps.stability ?? loadConfig({}).stability }));
  await app.register(referenceConfigPlugin({ db: deps.db, auth }));
  await app.register(planPlugin({ auth, db: deps.db, dropRoot: deps.dropRoot, maxBytes: deps.planMaxBytes ?? 50 * 1024 * 1024 }));
  await app.register(errorsPlugin({ db: deps.db, dropRoot: deps.dropRoot }));
  const notifier = operations.notifier ?? processNotifier();
  await app.register(loadsPlugin({ db: deps.db, adminKey: deps.adminKey, notifier }));
  await app.register(dashboardPlugin({ auth, db: deps.db, namespace: deps.client.options.namespace, operations }));
  await app.register(eventsPlugin({ auth, notifier }));
  await app.register(statsPlugin({ db: deps.db, auth }));
  await app.register(notificationsPlugin({ auth, db: deps.db, notifier, log: deps.log, outbound: operations.alerts.outbound ?? null }));
  await app.register(metricsPlugin({ db: deps.db, log: deps.log, notifier, alerts: operations.alerts, host }));
  await app.register(distributionPlugin({ db: deps.db, client: deps.client, auth, config: deps.distribution ?? loadConfig({}).distribution, retry: deps.reporting?.retry }));
  await app.register(downloadsPlugin({ db: deps.db, key: deps.reporting?.secretsKey ? downloadKeyFrom(deps.reporting.secretsKey) : null }));
  await app.register(reportingPlugin({ db: deps.db, client: deps.client, adminKey: deps.adminKey, options: deps.reporting ?? reportingOptionsFrom(loadConfig({}), null), notifier }));
  return app;
}
