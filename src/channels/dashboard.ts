// DASHBOARD_NOTIFICATION: a notification handed to the platform's own store, which persists it and pushes it to browsers.
import { z } from 'zod';
import { raceDeadline, startDeadline } from './deadline';
import { ChannelError, errorMessage } from './errors';
import type { ChannelSender, DeliveryMessage, MetadataValue, SendResult } from './types';

export const dashboardConfigSchema = z.object({
  severity: z.enum(['info', 'warning', 'critical']).default('info'),
  /** Who sees it; the API's stream filters on it. Defaults to the subscription's subscriber (set by the caller). */
  audience: z.array(z.string().min(1)).default([]),
});

export type DashboardConfig = z.infer<typeof dashboardConfigSchema>;

export interface DashboardNotification {
  /** = deliveryId: a retried publish must upsert, not add a second notification. */
  id: string;
  createdAt: string;
  severity: DashboardConfig['severity'];
  audience: string[];
  reportId: string;
  reportType: string;
  title: string;
  summary?: string;
  link?: string;
  files: { fileName: string; bytes: number; sha256: string; url?: string }[];
  metadata: Record<string, MetadataValue>;
}

/**
 * Where notifications go (the database plus the WebSocket stream, wired by the worker). `publish` must be idempotent
 * on `id`. Throw a ChannelError to choose the classification; any other error is treated as retryable.
 */
export interface NotificationSink {
  publish(notification: DashboardNotification): Promise<void>;
}

export function dashboardNotification(msg: DeliveryMessage, config: DashboardConfig): DashboardNotification {
  return {
    id: msg.deliveryId,
    createdAt: msg.createdAt,
    severity: config.severity,
    audience: config.audience,
    reportId: msg.reportId,
    reportType: msg.reportType,
    title: msg.title,
    ...(msg.summary === undefined ? {} : { summary: msg.summary }),
    ...(msg.link === undefined ? {} : { link: msg.link }),
    files: msg.attachments.map((a) => ({ fileName: a.fileName, bytes: a.bytes, sha256: a.sha256, ...(a.url === undefined ? {} : { url: a.url }) })),
    metadata: msg.metadata,
  };
}

export function createDashboardSender(sink: NotificationSink): ChannelSender<DashboardConfig> {
  return {
    type: 'DASHBOARD_NOTIFICATION',
    async send(msg, config, ctx): Promise<SendResult> {
      const started = performance.now();
      const what = `dashboard ${msg.deliveryId}`;
      const deadline = startDeadline(ctx);
      try {
        // A sink has no way to be told to stop; publish is idempotent, so a late finish after a timeout is harmless.
        await raceDeadline(sink.publish(dashboardNotification(msg, config)), deadline, what, () => undefined);
      } catch (err) {
        if (err instanceof ChannelError) throw err;
        throw new ChannelError('REMOTE_TEMPORARY', `${what}: storing the notification failed: ${errorMessage(err)}`, { permanent: false, cause: err });
      } finally {
        deadline.dispose();
      }
      return {
        status: 'delivered',
        detail: `notification ${msg.deliveryId} stored (${config.severity}, ${config.audience.length} audience entries)`,
        remoteId: msg.deliveryId,
        latencyMs: Math.round(performance.now() - started),
      };
    },
  };
}
