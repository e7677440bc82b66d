// Operator notifications on PostgreSQL (ref.operator_notifications, migration 015).
import type { NotificationStore, StoredNotification } from '../notifications';
import type { PgExecutor, Row, SqlValue } from './executor';

const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string).toISOString());

export function notificationFromRow(r: Row): StoredNotification {
  return {
    id: String(r.id),
    at: iso(r.raised_at)!,
    kind: String(r.kind),
    severity: r.severity as StoredNotification['severity'],
    title: String(r.title),
    message: String(r.message),
    ...(r.workflow_id ? { workflowId: String(r.workflow_id) } : {}),
    refs: (r.refs as Record<string, string> | null) ?? {},
    sent: { channel: (r.sent_channel as string | null) ?? null, at: iso(r.sent_at), error: (r.send_error as string | null) ?? null },
  };
}

export function createPostgresNotificationStore(exec: PgExecutor): NotificationStore {
  return {
    async saveNotification(n) {
      const rows = await exec.query(
        `INSERT INTO ref.operator_notifications (id, raised_at, kind, severity, title, message, workflow_id, refs)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb) ON CONFLICT (id) DO NOTHING RETURNING id`,
        [n.id, new Date(n.at), n.kind, n.severity, n.title, n.message, n.workflowId ?? null, JSON.stringify(n.refs)],
      );
      return rows.length > 0;
    },

    async recordNotificationSent(id, { channel, error }) {
      await exec.query(
        `UPDATE ref.operator_notifications SET sent_channel = $2, sent_at = CASE WHEN $3::text IS NULL THEN now() ELSE sent_at END, send_error = $3 WHERE id = $1`,
        [id, channel, error],
      );
    },

    async listNotifications({ since, before, kind, limit }) {
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (since) where.push(`raised_at >= $${params.push(since)}`);
      if (before) where.push(`(raised_at, id) < ($${params.push(before.at)}, $${params.push(before.id)})`);
      if (kind) where.push(`kind = $${params.push(kind)}`);
      const rows = await exec.query(
        `SELECT id, raised_at, kind, severity, title, message, workflow_id, refs, sent_channel, sent_at, send_error
           FROM ref.operator_notifications ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY raised_at DESC, id DESC LIMIT $${params.push(limit)}`,
        params,
      );
      return rows.map(notificationFromRow);
    },
  };
}
