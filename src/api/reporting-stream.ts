// WebSocket /api/v1/reporting/stream: every status change of one subscription's deliveries, as it happens.
//
// Two sources, deduplicated: the in-process feed (when a worker runs in this process, e.g. `refdata dev`: changes
// arrive the moment an activity writes them) and polling of dist.delivery_history every `pollMs` (always on, so
// workers in other processes are heard too, and nothing is missed across a reconnect of the feed).
// Authentication: as every stream (src/api/socket-auth.ts).
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { WebSocket } from 'ws';
import type { Database } from '../db/types';
import { mayAccess, resolveCaller } from '../reporting/api-keys';
import { changeKey, statusChangeOf, type DeliveryNotifier, type DeliveryStatusChange } from '../reporting/notifier';
import { acceptKeyedSocket } from './socket-auth';

export interface StreamDeps {
  db: Database;
  adminKey?: string;
  feed?: DeliveryNotifier;
  pollMs: number;
}

/** Re-read this far back on each poll: a transaction that committed late carries an older updated_at. */
const POLL_OVERLAP_MS = 2_000;
const PAGE = 500;

/** Close codes: 4401 no or unknown key, 4404 no such subscription for this key. */
export function reportingStreamRoute(app: FastifyInstance, deps: StreamDeps): void {
  app.get('/api/v1/reporting/stream', {
    websocket: true,
    config: { access: 'socket' },
    schema: {
      tags: ['reporting'],
      summary: 'WebSocket: {"type":"subscribed"} then {"type":"delivery_status", delivery_id, status, retry_count, …} for every change of the subscription\'s deliveries',
      querystring: Type.Object({
        subscription_id: Type.String({ minLength: 1, maxLength: 100 }),
        report_types: Type.Optional(Type.String({ maxLength: 500, description: 'comma-separated report types; all when absent' })),
      }),
    },
  }, (socket: WebSocket, req) => {
    const query = req.query as { subscription_id: string; report_types?: string };
    const types = query.report_types ? new Set(query.report_types.split(',').map((t) => t.trim()).filter(Boolean)) : null;
    acceptKeyedSocket(socket, req, async (key, s) => {
      const caller = await resolveCaller(deps.db.distribution, deps.adminKey, key);
      if (!caller) return s.refuse(4401, 'unknown or revoked API key');
      const sub = await deps.db.distribution.getSubscription(query.subscription_id);
      if (!sub || !mayAccess(caller, sub.subscriberId)) return s.refuse(4404, `no subscription ${query.subscription_id}`);
      s.onClose(follow(deps, query.subscription_id, types, s.send));
      s.send({ type: 'subscribed', subscription_id: query.subscription_id, report_types: types ? [...types] : null, live: deps.feed !== undefined, poll_ms: deps.pollMs });
    });
  });
}

/** Feeds one socket from both sources; returns the function that stops both. */
function follow(deps: StreamDeps, subscriptionId: string, types: Set<string> | null, send: (msg: unknown) => void): () => void {
  const sent = new Set<string>();
  // Per delivery, the newest updated_at sent: a poll that read a row before the feed announced a later change must not step back.
  const newest = new Map<string, number>();
  let queue = Promise.resolve();

  const forward = (change: DeliveryStatusChange) => {
    if (types && !types.has(change.report_type)) return;
    const key = changeKey(change);
    const at = Date.parse(change.updated_at);
    if (sent.has(key) || at < (newest.get(change.delivery_id) ?? 0)) return;
    sent.add(key);
    newest.set(change.delivery_id, at);
    // In order, and with the stored notification when a dashboard notification was delivered.
    queue = queue.then(async () => {
      const notification = change.status === 'delivered' && change.channel === 'DASHBOARD_NOTIFICATION'
        ? (await deps.db.distribution.getNotification(change.delivery_id))?.notification ?? null
        : undefined;
      send({ type: 'delivery_status', ...change, ...(notification !== undefined ? { notification } : {}) });
    }).catch(() => undefined);
    if (sent.size > 50_000) sent.clear(); // bounded memory on a very long-lived socket; `newest` still orders
  };

  const unsubscribe = deps.feed?.subscribe(subscriptionId, forward) ?? (() => undefined);
  let cursor = new Date(Date.now() - POLL_OVERLAP_MS);
  let polling = false;
  const poll = async () => {
    if (polling) return;
    polling = true;
    try {
      let since = new Date(cursor.getTime() - POLL_OVERLAP_MS);
      for (;;) {
        const rows = await deps.db.distribution.listDeliveries({ subscriptionId, since, limit: PAGE });
        for (const d of rows) forward(statusChangeOf(d));
        if (rows.length === 0) break;
        const last = rows[rows.length - 1].updatedAt;
        if (last > cursor) cursor = last;
        // A full page of one timestamp would read itself forever; the next poll moves on.
        if (rows.length < PAGE || last.getTime() === since.getTime()) break;
        since = last;
      }
    } catch {
      // The next tick tries again; the database may be restarting.
    } finally {
      polling = false;
    }
  };
  const timer = setInterval(() => void poll(), deps.pollMs);
  void poll();
  return () => {
    clearInterval(timer);
    unsubscribe();
  };
}
