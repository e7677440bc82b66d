// Upstream report events start deliveries through the same `deliver` logic as POST /api/v1/reporting/deliver.
import { deliver, type DeliverRequest, type DeliveryDeps } from '../reporting/deliveries';
import { ReportingError } from '../reporting/errors';
import type { ReportForDelivery, StartDeliveries } from './report-events';

export function deliverRequestOf(r: ReportForDelivery): DeliverRequest {
  return {
    report: {
      report_id: r.reportId,
      report_type: r.reportType,
      ...(r.title !== undefined ? { title: r.title } : {}),
      ...(r.portfolioId !== undefined ? { portfolio_id: r.portfolioId } : {}),
      ...(r.reportPeriod !== undefined ? { report_period: r.reportPeriod } : {}),
      ...(r.filePath !== undefined ? { file_path: r.filePath } : {}),
      ...(r.content ? { content: { content_type: r.content.contentType, text: r.content.text } } : {}),
      metadata: r.metadata,
    },
    ...(r.priority !== undefined ? { priority: r.priority } : {}),
    ...(r.targetSubscribers ? { target_subscribers: r.targetSubscribers } : {}),
    ...(r.channels ? { channels: r.channels } : {}),
    ...(r.routingKey !== undefined ? { routing_key: r.routingKey } : {}),
    ...(r.sourceService !== undefined ? { source_service: r.sourceService } : {}),
    ...(r.encryptionRequired !== undefined ? { encryption_required: r.encryptionRequired } : {}),
    ...(r.retentionDays !== undefined ? { retention_days: r.retentionDays } : {}),
  };
}

/**
 * `deliver` is idempotent without the key: delivery ids derive from report × subscription × channel, and a
 * repeated start keeps the running workflow. A refusal of the report itself (4xx) is final, not retried;
 * anything else (database, Temporal) throws so the event is delivered again.
 */
export function startDeliveriesVia(deps: DeliveryDeps): StartDeliveries {
  return async (report) => {
    try {
      const res = await deliver(deps, deliverRequestOf(report));
      return { deliveryIds: res.deliveries.map((d) => d.delivery_id) };
    } catch (err) {
      if (err instanceof ReportingError && err.httpStatus < 500) return { deliveryIds: [], rejected: `${err.code}: ${err.message}` };
      throw err;
    }
  };
}
