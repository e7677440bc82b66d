// Operator notifications on SQL Server (ref.operator_notifications, migration 015): statements as pure functions and the store.
import type sql from 'mssql';
import { z } from 'zod';
import type { NotificationQuery, NotificationRow, NotificationStore, StoredNotification } from '../notifications';
import { rowsOf } from './client';
import { datetimeParam, intParam, textParam, type Param, type Statement } from './statement';

export function saveNotificationSql(n: NotificationRow): Statement {
  return {
    text:
      'INSERT INTO ref.operator_notifications (id, raised_at, kind, severity, title, message, workflow_id, refs)\n' +
      'SELECT @id, @raised_at, @kind, @severity, @title, @message, @workflow_id, @refs\n' +
      'WHERE NOT EXISTS (SELECT 1 FROM ref.operator_notifications WHERE id = @id);\n' +
      'SELECT @@ROWCOUNT AS n;',
    params: {
      id: textParam(n.id), raised_at: datetimeParam(new Date(n.at)), kind: textParam(n.kind), severity: textParam(n.severity), title: textParam(n.title),
      message: textParam(n.message), workflow_id: textParam(n.workflowId ?? null), refs: textParam(JSON.stringify(n.refs)),
    },
  };
}

export function recordNotificationSentSql(id: string, channel: string, error: string | null): Statement {
  return {
    text:
      'UPDATE ref.operator_notifications SET sent_channel = @channel, send_error = @error,\n' +
      '  sent_at = CASE WHEN @error IS NULL THEN SYSUTCDATETIME() ELSE sent_at END\n' +
      'WHERE id = @id',
    params: { id: textParam(id), channel: textParam(channel), error: textParam(error) },
  };
}

export function listNotificationsSql(q: NotificationQuery): Statement {
  const where: string[] = [];
  const params: Record<string, Param> = { limit: intParam(q.limit) };
  if (q.since) (where.push('raised_at >= @since'), (params.since = datetimeParam(q.since)));
  if (q.before) (where.push('(raised_at < @before_at OR (raised_at = @before_at AND id < @before_id))'), (params.before_at = datetimeParam(q.before.at)), (params.before_id = textParam(q.before.id)));
  if (q.kind) (where.push('kind = @kind'), (params.kind = textParam(q.kind)));
  return {
    text:
      'SELECT TOP (@limit) id, raised_at, kind, severity, title, message, workflow_id, refs, sent_channel, sent_at, send_error\n' +
      `FROM ref.operator_notifications${where.length ? `\nWHERE ${where.join(' AND ')}` : ''}\n` +
      'ORDER BY raised_at DESC, id DESC',
    params,
  };
}

const notificationRow = z.object({
  id: z.string(),
  raised_at: z.date(),
  kind: z.string(),
  severity: z.enum(['info', 'warning', 'critical']),
  title: z.string(),
  message: z.string(),
  workflow_id: z.string().nullable(),
  refs: z.string(),
  sent_channel: z.string().nullable(),
  sent_at: z.date().nullable(),
  send_error: z.string().nullable(),
});

export function notificationsFrom(rows: unknown): StoredNotification[] {
  return z.array(notificationRow).parse(rows).map((r) => ({
    id: r.id,
    at: r.raised_at.toISOString(),
    kind: r.kind,
    severity: r.severity,
    title: r.title,
    message: r.message,
    ...(r.workflow_id ? { workflowId: r.workflow_id } : {}),
    refs: JSON.parse(r.refs) as Record<string, string>,
    sent: { channel: r.sent_channel, at: r.sent_at?.toISOString() ?? null, error: r.send_error },
  }));
}

/** 2627/2601: a duplicate key; two processes keeping the same event at once, the second one lost the race. */
const isDuplicateKey = (err: unknown) => [2627, 2601].includes((err as { number?: number }).number ?? 0);

export function createMssqlNotificationStore(pool: sql.ConnectionPool): NotificationStore {
  return {
    async saveNotification(n) {
      try {
        const [row] = await rowsOf(pool, saveNotificationSql(n));
        return Number(row?.n ?? 0) > 0;
      } catch (err) {
        if (isDuplicateKey(err)) return false;
        throw err;
      }
    },
    async recordNotificationSent(id, { channel, error }) {
      await rowsOf(pool, recordNotificationSentSql(id, channel, error));
    },
    async listNotifications(q) {
      return notificationsFrom(await rowsOf(pool, listNotificationsSql(q)));
    },
  };
}
