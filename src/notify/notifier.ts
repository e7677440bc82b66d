// The in-process notifier: activities, the API and the threshold evaluator raise operator notifications here;
// the dashboard's WebSocket stream (/api/v1/events/stream) pushes them to every open page.
import crypto from 'node:crypto';

export type NotificationKind =
  | 'file.failed'
  | 'load.reverted'
  | 'sync.failed'
  | 'distribution.failed'
  | 'delivery.failed'
  | 'threshold.crossed'
  | 'threshold.cleared'
  | 'channel.unhealthy'
  | 'channel.recovered'
  | 'channel.disabled'
  | 'config.problems';

export type Severity = 'info' | 'warning' | 'critical';

export interface Notification {
  /** Stable for one event, so the same failure seen twice (activity retry, ledger watch) is shown once. */
  id: string;
  at: string;
  kind: NotificationKind;
  severity: Severity;
  title: string;
  /** What happened and what to do next, in an operator's words. */
  message: string;
  /** The run to open in the Temporal Web UI, when there is one. */
  workflowId?: string;
  /** Ids that join the notification to the ledger and the logs (loadId, syncRunId, deliveryId, filePath, alert, …). */
  refs: Record<string, string>;
}

export type NotificationInput = Omit<Notification, 'id' | 'at' | 'refs'> & { id?: string; at?: string; refs?: Record<string, string> };

export interface Notifier {
  /** Records and broadcasts; returns null when a notification with this id was already raised. */
  notify(input: NotificationInput): Notification | null;
  /** Newest first. */
  recent(limit?: number): Notification[];
  /** Calls `listener` for every new notification until the returned function is called. */
  subscribe(listener: (n: Notification) => void): () => void;
}

export interface NotifierOptions {
  /** How many recent notifications a newly opened page is shown. */
  capacity?: number;
  now?: () => Date;
  /** A listener that throws must not stop the others or the caller (an activity): report it here. */
  onListenerError?: (err: unknown) => void;
}

export function createNotifier(opts: NotifierOptions = {}): Notifier {
  const capacity = opts.capacity ?? 200;
  const now = opts.now ?? (() => new Date());
  const ring: Notification[] = [];
  const ids = new Set<string>();
  const listeners = new Set<(n: Notification) => void>();

  return {
    notify(input) {
      const id = input.id ?? crypto.randomUUID();
      if (ids.has(id)) return null;
      const n: Notification = { ...input, id, at: input.at ?? now().toISOString(), refs: input.refs ?? {} };
      ring.push(n);
      ids.add(id);
      while (ring.length > capacity) ids.delete(ring.shift()!.id);
      for (const listener of listeners) {
        try {
          listener(n);
        } catch (err) {
          opts.onListenerError?.(err);
        }
      }
      return n;
    },
    recent(limit = capacity) {
      return ring.slice(-limit).reverse();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

let shared: Notifier | null = null;

/**
 * The process's notifier. `refdata dev` runs the worker and the API in one process, so activities and the
 * WebSocket stream meet here without a broker; a separate API process learns of failures from the ledger
 * instead (src/notify/ledger-watch.ts).
 */
export function processNotifier(): Notifier {
  shared ??= createNotifier();
  return shared;
}
