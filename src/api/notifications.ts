// GET /api/v1/notifications: operator notifications kept in the database (they survive a restart, unlike the
// in-memory feed of /api/v1/events/recent), newest first, paged, with what the alert channel did with each.
// The plugin also keeps this process's notifications (src/notify/keeper.ts) while the API runs.
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Database } from '../db/types';
import type { Logger } from '../log/logger';
import type { OutboundAlertSettings } from '../notify/alert-channel';
import { keepNotifications } from '../notify/keeper';
import type { Notifier } from '../notify/notifier';
import { SinceError, parseSince } from '../since';
import { readRoles, requireRole, type RoleAuth } from './auth';
import { NotificationSchema } from './events';
import { ErrorBody } from './schemas';

export interface NotificationsPluginDeps {
  auth: RoleAuth;
  db: Pick<Database, 'notifications'>;
  notifier: Notifier;
  log: Logger;
  outbound: OutboundAlertSettings | null;
}

/** A notification as the feed shows it, plus what the alert channel did with it. */
const StoredNotificationSchema = Type.Composite([NotificationSchema, Type.Object({
  sent: Type.Object({
    channel: Type.Union([Type.String(), Type.Null()], { description: 'the alert channel it went to (EMAIL, SLACK_INTEGRATION); null: not sent' }),
    at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()], { description: 'why the alert channel did not take it' }),
  }),
})]);

/** The cursor is the last item's (at, id), opaque to clients. */
function cursorOf(n: { at: string; id: string }): string {
  return Buffer.from(JSON.stringify([n.at, n.id]), 'utf8').toString('base64url');
}

function readCursor(text: string): { at: Date; id: string } | null {
  try {
    const [at, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (typeof at !== 'string' || typeof id !== 'string' || Number.isNaN(Date.parse(at))) return null;
    return { at: new Date(at), id };
  } catch {
    return null;
  }
}

export const notificationsPlugin = (deps: NotificationsPluginDeps): FastifyPluginAsync => async (app) => {
  const keeper = keepNotifications({ notifier: deps.notifier, store: deps.db.notifications, log: deps.log, outbound: deps.outbound });
  app.addHook('onClose', async () => {
    await keeper.flush();
    keeper.stop();
  });

  app.get('/api/v1/notifications', {
    preHandler: requireRole(deps.auth, readRoles),
    schema: {
      tags: ['events'],
      summary: 'Operator notifications kept in the database, newest first, with what the alert channel did with each; page with `cursor`',
      security: [{ bearer: [] }],
      querystring: Type.Object({
        since: Type.Optional(Type.String({ description: 'a duration back from now (90s, 30m, 24h, 7d, 2w) or an ISO date / date-time', maxLength: 40, pattern: '^(\\d{1,6}(\\.\\d+)? ?[smhdwSMHDW]|\\d{4}-\\d{2}-\\d{2}([T ][\\d:.]+(Z|[+-]\\d{2}:?\\d{2})?)?)$' })),
        kind: Type.Optional(Type.String({ maxLength: 50 })),
        limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
        cursor: Type.Optional(Type.String({ maxLength: 1200, pattern: '^[A-Za-z0-9_-]+$', description: 'next_cursor of the previous page' })),
      }),
      response: { 200: Type.Object({ items: Type.Array(StoredNotificationSchema), next_cursor: Type.Union([Type.String(), Type.Null()]) }), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
    },
  }, async (req, reply) => {
    const q = req.query as { since?: string; kind?: string; limit: number; cursor?: string };
    let since: Date | undefined;
    try {
      since = q.since ? parseSince(q.since) : undefined;
    } catch (err) {
      if (err instanceof SinceError) return reply.code(400).send({ error: { code: 'BAD_REQUEST', message: err.message.replace('--since', 'since') } });
      throw err;
    }
    const before = q.cursor ? readCursor(q.cursor) : undefined;
    if (before === null) return reply.code(400).send({ error: { code: 'BAD_REQUEST', message: 'cursor is not one this API gave out; start again without it' } });
    // One more than asked: whether there is a next page, without a count.
    const rows = await deps.db.notifications.listNotifications({ since, before, kind: q.kind, limit: q.limit + 1 });
    const items = rows.slice(0, q.limit);
    return { items, next_cursor: rows.length > q.limit ? cursorOf(items.at(-1)!) : null };
  });
};
