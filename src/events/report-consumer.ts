// Turns upstream `reporting.reports.generated` events into deliveries, once per event_id, from Kafka or the bus.
import type { Logger } from '../log/logger';
import type { OutboxStore } from '../db/outbox';
import type { BusMessage } from './bus';
import { parseReportEvent, type ReportForDelivery, type StartDeliveries } from './report-events';

export type ReportEventOutcome =
  | { outcome: 'started'; eventId: string; deliveryIds: string[] }
  | { outcome: 'duplicate'; eventId: string }
  | { outcome: 'invalid'; eventId: string | null; problems: string[] }
  | { outcome: 'rejected'; eventId: string; reason: string };

export interface ReportEventHandlerDeps {
  inbox: Pick<OutboxStore, 'receiveInbound' | 'finishInbound'>;
  startDeliveries: StartDeliveries;
  log: Logger;
}

/**
 * Handles one upstream event. The inbox (dist.inbox) remembers handled event ids, so a redelivered event is
 * skipped. An event seen before whose deliveries were never confirmed (a crash mid-call) is started again with
 * the same idempotency key, which `startDeliveries` turns into the same delivery ids. A failure throws, so the
 * transport delivers the event again; an invalid event is logged and dropped (retrying cannot fix it).
 */
export function createReportEventHandler(deps: ReportEventHandlerDeps): (message: BusMessage) => Promise<ReportEventOutcome> {
  const log = deps.log.child({ component: 'report-consumer' });
  // The same event handled twice at once in this process (two bus subscribers, a retry racing the first try)
  // waits for the first instead of racing it through the inbox.
  const inFlight = new Map<string, Promise<ReportEventOutcome>>();
  return async (message) => {
    const parsed = parseReportEvent(message.payload);
    if (!parsed.ok) {
      log.error({ topic: message.topic, eventId: parsed.eventId ?? message.eventId, problems: parsed.problems }, 'dropped an invalid upstream report event; the producer must fix and resend it');
      return { outcome: 'invalid', eventId: parsed.eventId, problems: parsed.problems };
    }
    const running = inFlight.get(parsed.eventId);
    if (running) {
      await running;
      return { outcome: 'duplicate', eventId: parsed.eventId };
    }
    const handling = handle(parsed.eventId, parsed.report, message.topic);
    inFlight.set(parsed.eventId, handling);
    try {
      return await handling;
    } finally {
      inFlight.delete(parsed.eventId);
    }
  };

  async function handle(eventId: string, report: ReportForDelivery, topic: string): Promise<ReportEventOutcome> {
    const seen = await deps.inbox.receiveInbound(eventId, topic);
    if (seen === 'done') {
      log.debug({ eventId, reportId: report.reportId }, 'upstream report event already handled; skipped');
      return { outcome: 'duplicate', eventId };
    }
    const { deliveryIds, rejected } = await deps.startDeliveries(report, { idempotencyKey: eventId });
    await deps.inbox.finishInbound(eventId);
    if (rejected !== undefined) {
      log.error({ eventId, reportId: report.reportId, reason: rejected }, 'refused an upstream report; the producer must fix and resend it');
      return { outcome: 'rejected', eventId, reason: rejected };
    }
    log.info({ eventId, reportId: report.reportId, reportType: report.reportType, deliveries: deliveryIds.length, retried: seen === 'unfinished' }, 'started deliveries for an upstream report');
    return { outcome: 'started', eventId, deliveryIds };
  }
}
