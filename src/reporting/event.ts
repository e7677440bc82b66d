// The `report_distributed` event in its original shape, and the topic it goes to.
import type { DeliveryRecord } from './types';

export interface ReportDistributedEvent {
  event_id: string;
  timestamp: string;
  distribution: { topic: string; routing_key: string; target_subscribers: string[]; delivery_channels: string[] };
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
    distribution: { topic, routing_key: r.routingKey, target_subscribers: [d.subscriberId], delivery_channels: [d.channel] },
    report_data: {
      report_id: r.reportId,
      report_type: r.reportType,
      portfolio_id: r.portfolioId,
      report_period: r.reportPeriod,
      file_path: r.filePath,
      file_size_bytes: r.fileSizeBytes,
    },
    metadata: { source_service: r.sourceService, delivery_priority: d.priority, encryption_required: r.encryptionRequired, retention_days: r.retentionDays },
  };
}
