// Operator notifications kept in the database (migration 015): what the notifier raised, and whether the alert
// channel sent it. Intentions only; each dialect owns its SQL. The shape mirrors src/notify/notifier.ts, which db
// does not import.

export interface NotificationRow {
  id: string;
  /** When it was raised (ISO 8601). */
  at: string;
  kind: string;
  severity: 'info' | 'warning' | 'critical';
  title: string;
  message: string;
  workflowId?: string;
  refs: Record<string, string>;
}

export interface StoredNotification extends NotificationRow {
  /** The outbound alert: the channel it went to (null: not sent), when, or the last error. */
  sent: { channel: string | null; at: string | null; error: string | null };
}

/** A page of notifications, newest first: raised after `since`, and before the cursor (raised_at, id) when given. */
export interface NotificationQuery {
  since?: Date;
  before?: { at: Date; id: string };
  kind?: string;
  limit: number;
}

export interface NotificationStore {
  /** Keeps a notification; false when one with this id is kept already (the same event raised again), nothing changed. */
  saveNotification(n: NotificationRow): Promise<boolean>;
  /** Records the outcome of sending it through the alert channel: sent (error null) or why not. */
  recordNotificationSent(id: string, outcome: { channel: string; error: string | null }): Promise<void>;
  listNotifications(q: NotificationQuery): Promise<StoredNotification[]>;
}

/** The longest id the table keys on; longer ids (a long problem list) are shortened by the caller keeping them. */
export const MAX_NOTIFICATION_ID = 400;
