// /api/v1/events: operator notifications, recent ones over REST and new ones as they happen over a WebSocket
// (authenticated as every stream is: src/api/socket-auth.ts).
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { WebSocket } from 'ws';
import type { Notification, Notifier } from '../notify/notifier';
import { operatorOf, requireOperator } from './dashboard';
import type { RoleAuth } from './auth';
import { acceptKeyedSocket } from './socket-auth';
import { ErrorBody } from './schemas';

/** One operator notification as the API shows it (also the base of a stored one: src/api/notifications.ts). */
export const NotificationSchema = Type.Object({
  id: Type.String(),
  at: Type.String({ format: 'date-time' }),
  kind: Type.String(),
  severity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]),
  title: Type.String(),
  message: Type.String(),
  workflowId: Type.Optional(Type.String()),
  refs: Type.Record(Type.String(), Type.String()),
});

export const eventsPlugin = (deps: { auth: RoleAuth; notifier: Notifier }): FastifyPluginAsync => async (app) => {
  app.get('/api/v1/events/recent', {
    preHandler: requireOperator(deps.auth),
    schema: {
      tags: ['events'],
      summary: 'Recent operator notifications (file failed, load reverted, sync failed, delivery failed, thresholds), newest first',
      security: [{ bearer: [] }],
      querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }) }),
      response: { 200: Type.Object({ items: Type.Array(NotificationSchema) }), 401: ErrorBody, 403: ErrorBody },
    },
  }, async (req) => ({ items: deps.notifier.recent((req.query as { limit: number }).limit) }));

  app.get('/api/v1/events/stream', {
    websocket: true,
    config: { access: 'socket' },
    schema: {
      tags: ['events'],
      summary: 'WebSocket: send {"type":"auth","key":"…"} first (or the Authorization header); then receive {"type":"ready","recent":[…]} and {"type":"notification","notification":{…}} as they happen',
    },
  }, (socket: WebSocket, req) => {
    acceptKeyedSocket(socket, req, async (key, s) => {
      const r = await operatorOf(deps.auth, key);
      if (!('caller' in r)) return s.refuse(r.refused, r.refused === 4401 ? 'unknown or revoked API key' : 'only operator and admin keys may read the event stream');
      s.send({ type: 'ready', recent: deps.notifier.recent(50) });
      s.onClose(deps.notifier.subscribe((n: Notification) => s.send({ type: 'notification', notification: n })));
    });
  });
};
