// Upstream `reporting.reports.generated` events: their shape, parsed once here into the report to deliver.
import { z } from 'zod';
import { channelTypes, type ChannelType, type InlineContent, type MetadataValue } from '../channels/types';
import { reportTypes, type ReportType } from '../reporting/types';

const metadataValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/**
 * An upstream report event: the original ReportDistribution shape (event_id, timestamp, data_type, report_data,
 * routing, metadata). A report comes as a file path or as inline content.
 */
const upstreamReportEvent = z
  .object({
    event_id: z.string().min(1).max(100),
    timestamp: z.string().optional(),
    data_type: z.enum(reportTypes).optional(),
    report_data: z.object({
      report_id: z.string().min(1).max(100),
      report_type: z.enum(reportTypes),
      title: z.string().max(500).optional(),
      portfolio_id: z.string().max(100).optional(),
      report_period: z.string().max(50).optional(),
      file_path: z.string().min(1).max(1000).optional(),
      file_size_bytes: z.number().int().nonnegative().optional(),
      content: z.object({ content_type: z.enum(['text/plain', 'text/html', 'application/json']), text: z.string() }).optional(),
    }),
    routing: z
      .object({
        routing_key: z.string().optional(),
        target_subscribers: z.array(z.string().min(1)).optional(),
        delivery_channels: z.array(z.enum(channelTypes)).optional(),
        priority: z.number().int().min(1).max(10).optional(),
      })
      .optional(),
    metadata: z.record(z.string(), metadataValue).optional(),
  })
  .refine((e) => e.report_data.file_path !== undefined || e.report_data.content !== undefined, {
    message: 'report_data needs a file_path or inline content',
    path: ['report_data'],
  });

/**
 * A report to deliver to every matching subscription: what `POST /api/v1/reporting/deliver` takes (issue 5,
 * item 1: id, type, portfolio/period metadata, a file path or inline content), in our own camelCase.
 */
export interface ReportForDelivery {
  reportId: string;
  reportType: ReportType;
  title?: string;
  portfolioId?: string;
  reportPeriod?: string;
  filePath?: string;
  fileSizeBytes?: number;
  content?: InlineContent;
  /** 1 is the most urgent (the original delivery_priority). */
  priority?: number;
  /** Only these subscribers, when the upstream event names them. */
  targetSubscribers?: string[];
  /** Only these channels, when the upstream event names them. */
  channels?: ChannelType[];
  /** Carried into the `report_distributed` events (the original routing_key and metadata fields). */
  routingKey?: string;
  sourceService?: string;
  encryptionRequired?: boolean;
  retentionDays?: number;
  metadata: Record<string, MetadataValue>;
}

/**
 * Starts the deliveries of one report and returns their ids: the REST `deliver` logic, injected. It must be
 * idempotent on `idempotencyKey` (the upstream event_id): a consumer that crashed mid-call calls it again.
 */
export type StartDeliveries = (report: ReportForDelivery, ctx: { idempotencyKey: string }) => Promise<StartedDeliveries>;

/** `rejected`: the report can never be delivered as sent (e.g. its file is outside the report roots); not retried. */
export interface StartedDeliveries {
  deliveryIds: string[];
  rejected?: string;
}

export type ParsedReportEvent = { ok: true; eventId: string; report: ReportForDelivery } | { ok: false; eventId: string | null; problems: string[] };

/** Validates an upstream event (untrusted JSON) and turns it into the report to deliver. */
export function parseReportEvent(raw: unknown): ParsedReportEvent {
  const parsed = upstreamReportEvent.safeParse(raw);
  if (!parsed.success) {
    const id = typeof raw === 'object' && raw !== null && typeof (raw as { event_id?: unknown }).event_id === 'string' ? (raw as { event_id: string }).event_id : null;
    return { ok: false, eventId: id, problems: parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`) };
  }
  const e = parsed.data;
  const d = e.report_data;
  const report: ReportForDelivery = {
    reportId: d.report_id,
    reportType: d.report_type,
    metadata: { ...(e.metadata ?? {}), source_event_id: e.event_id, ...(e.timestamp ? { generated_at: e.timestamp } : {}) },
  };
  if (d.title !== undefined) report.title = d.title;
  if (d.portfolio_id !== undefined) report.portfolioId = d.portfolio_id;
  if (d.report_period !== undefined) report.reportPeriod = d.report_period;
  if (d.file_path !== undefined) report.filePath = d.file_path;
  if (d.file_size_bytes !== undefined) report.fileSizeBytes = d.file_size_bytes;
  if (d.content) report.content = { contentType: d.content.content_type, text: d.content.text };
  if (e.routing?.priority !== undefined) report.priority = e.routing.priority;
  if (e.routing?.target_subscribers?.length) report.targetSubscribers = e.routing.target_subscribers;
  if (e.routing?.delivery_channels?.length) report.channels = e.routing.delivery_channels;
  if (e.routing?.routing_key) report.routingKey = e.routing.routing_key;
  const m = e.metadata ?? {};
  if (typeof m.source_service === 'string') report.sourceService = m.source_service;
  if (typeof m.encryption_required === 'boolean') report.encryptionRequired = m.encryption_required;
  if (typeof m.retention_days === 'number' && Number.isInteger(m.retention_days) && m.retention_days > 0) report.retentionDays = m.retention_days;
  return { ok: true, eventId: e.event_id, report };
}
