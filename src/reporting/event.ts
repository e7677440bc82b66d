// The `report_distributed` event in its original shape, and the topic it goes to.
import crypto from 'node:crypto';
import type { EventPublisher } from '../events/types';
import type { DeliveryRecord, ReportInfo } from './types';

export interface ReportDistributedEvent {
  event_id: string;
  timestamp: string;
  distribution: {
    topic: string;
    routing_key: string;
    target_subscribers: string[];
    delivery_channels: string[];
    /** `distribution`: one per report handed out, listing every target; `delivery`: one per delivered delivery. */
    scope: 'distribution' | 'delivery';
  };
  report_data: {
    report_id: string;
    report_type: string;
    portfolio_id: string | null;
    report_period: string | null;
    file_path: string | null;
    file_size_bytes: number | null;
  };
  metadata: { source_service: string; delivery_priority: number; encryption_required: boolean; retention_days: number };
}

export const DEFAULT_DELIVERED_TOPIC_TEMPLATE = 'reporting.{type}.delivered';

/** PERFORMANCE_REPORT → performance, REFERENCE_DATA → reference_data: the original `reporting/performance/delivered`, Kafka-legal. */
export function topicTypeOf(reportType: string): string {
  return reportType.toLowerCase().replace(/_report$/, '').replace(/[^a-z0-9._-]/g, '_');
}

export function deliveredTopic(reportType: string, template = DEFAULT_DELIVERED_TOPIC_TEMPLATE): string {
  return template.replace('{type}', topicTypeOf(reportType));
}

/** One event per delivered delivery: its subscriber and channel are the targets. */
export function reportDistributedEvent(d: DeliveryRecord, eventId: string, topic: string, at: Date): ReportDistributedEvent {
  const r = d.payload.report;
  return {
    event_id: eventId,
    timestamp: at.toISOString(),
    distribution: { topic, routing_key: r.routingKey, target_subscribers: [d.subscriberId], delivery_channels: [d.channel], scope: 'delivery' },
    report_data: reportDataOf(r),
    metadata: { source_service: r.sourceService, delivery_priority: d.priority, encryption_required: r.encryptionRequired, retention_days: r.retentionDays },
  };
}

function reportDataOf(r: ReportInfo): ReportDistributedEvent['report_data'] {
  return {
    report_id: r.reportId,
    report_type: r.reportType,
    portfolio_id: r.portfolioId,
    report_period: r.reportPeriod,
    file_path: r.filePath,
    file_size_bytes: r.fileSizeBytes,
  };
}

/** What a distribution handed out: one entry per delivery it planned. */
export interface PlannedDelivery {
  deliveryId: string;
  subscriberId: string;
  channel: string;
}

/**
 * The distribution's event id: the same report handed to the same deliveries gives the same id, so a repeated
 * request (or a retried activity) stores the event once (the outbox ignores a known id).
 */
export function distributionEventId(reportId: string, deliveries: readonly PlannedDelivery[]): string {
  const ids = deliveries.map((d) => d.deliveryId).sort();
  return `dst_${crypto.createHash('sha256').update([reportId, ...ids].join('\u0000')).digest('hex').slice(0, 32)}`;
}

/** One event per distribution (a report handed to its matching subscriptions), as the original service describes it. */
export function reportDistributionEvent(report: ReportInfo, deliveries: readonly PlannedDelivery[], priority: number, topic: string, at: Date): ReportDistributedEvent {
  return {
    event_id: distributionEventId(report.reportId, deliveries),
    timestamp: at.toISOString(),
    distribution: {
      topic,
      routing_key: report.routingKey,
      target_subscribers: [...new Set(deliveries.map((d) => d.subscriberId))].sort(),
      delivery_channels: [...new Set(deliveries.map((d) => d.channel))].sort(),
      scope: 'distribution',
    },
    report_data: reportDataOf(report),
    metadata: { source_service: report.sourceService, delivery_priority: priority, encryption_required: report.encryptionRequired, retention_days: report.retentionDays },
  };
}

/** Stores the distribution's event (nothing when it planned no delivery); the outbox relay publishes it. */
export async function announceDistribution(
  events: EventPublisher, report: ReportInfo, deliveries: readonly PlannedDelivery[], priority: number, topicFor: (reportType: string) => string = deliveredTopic,
): Promise<void> {
  if (deliveries.length === 0) return;
  const topic = topicFor(report.reportType);
  const payload = reportDistributionEvent(report, deliveries, priority, topic, new Date());
  await events.publish({ topic, key: report.routingKey, eventId: payload.event_id, payload });
}

