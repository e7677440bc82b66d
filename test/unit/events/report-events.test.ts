// Upstream report events: what is accepted, how it becomes REST's deliver request, and the Kafka topic names.
import { describe, expect, it } from 'vitest';
import { parseReportEvent } from '../../../src/events/report-events';
import { deliverRequestOf } from '../../../src/events/start-deliveries';
import { busMessageOf } from '../../../src/events/kafka';
import { outboxRowOf } from '../../../src/db/outbox';
import { deliveredTopic } from '../../../src/reporting/event';

const base = {
  event_id: 'evt-1',
  report_data: { report_id: 'r1', report_type: 'RISK_REPORT', content: { content_type: 'text/plain', text: 'VaR breached' } },
};

describe('parseReportEvent', () => {
  it.each([
    ['no event_id', { ...base, event_id: '' }, 'event_id'],
    ['an unknown report type', { ...base, report_data: { ...base.report_data, report_type: 'WEATHER' } }, 'report_data.report_type'],
    ['neither a file nor content', { event_id: 'e', report_data: { report_id: 'r', report_type: 'RISK_REPORT' } }, 'report_data'],
    ['an unknown channel', { ...base, routing: { delivery_channels: ['FAX'] } }, 'routing.delivery_channels.0'],
    ['not an object', 'hello', '(event)'],
  ])('refuses %s, naming the field', (_, raw, field) => {
    const parsed = parseReportEvent(raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems.join('\n')).toContain(field);
  });

  it('keeps the event id of an invalid event when it has one, for the log', () => {
    expect(parseReportEvent({ event_id: 'e9' })).toMatchObject({ ok: false, eventId: 'e9' });
  });

  it('turns the original shape into the deliver request, routing and metadata included', () => {
    const parsed = parseReportEvent({
      ...base,
      timestamp: '2025-06-21T10:00:00.000Z',
      routing: { routing_key: 'p1.risk.daily', target_subscribers: ['client_001'], priority: 1 },
      metadata: { source_service: 'risk_engine', encryption_required: true, retention_days: 30, desk: 'rates' },
    });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(deliverRequestOf(parsed.report)).toEqual({
      report: {
        report_id: 'r1',
        report_type: 'RISK_REPORT',
        content: { content_type: 'text/plain', text: 'VaR breached' },
        metadata: { source_service: 'risk_engine', encryption_required: true, retention_days: 30, desk: 'rates', source_event_id: 'evt-1', generated_at: '2025-06-21T10:00:00.000Z' },
      },
      priority: 1,
      target_subscribers: ['client_001'],
      routing_key: 'p1.risk.daily',
      source_service: 'risk_engine',
      encryption_required: true,
      retention_days: 30,
    });
  });
});

describe('Kafka messages', () => {
  it('reads the event id from the body, else the header; refuses what is not a JSON event', () => {
    const body = Buffer.from(JSON.stringify({ event_id: 'from-body', x: 1 }));
    expect(busMessageOf('t', Buffer.from('k'), body, { event_id: Buffer.from('from-header') })).toEqual({ topic: 't', key: 'k', eventId: 'from-body', payload: { event_id: 'from-body', x: 1 } });
    expect(busMessageOf('t', null, Buffer.from('{"x":1}'), { event_id: Buffer.from('h1') })?.eventId).toBe('h1');
    expect(busMessageOf('t', null, Buffer.from('{"x":1}'), {})).toBeNull();
    expect(busMessageOf('t', null, Buffer.from('not json'), { event_id: Buffer.from('h1') })).toBeNull();
    expect(busMessageOf('t', null, null, undefined)).toBeNull();
  });

  it('the delivered topics are Kafka-legal forms of reporting/<type>/delivered', () => {
    expect(deliveredTopic('PERFORMANCE_REPORT')).toBe('reporting.performance.delivered');
    for (const type of ['GENERATED_REPORT', 'REFERENCE_DATA', 'RISK_REPORT']) {
      expect(() => outboxRowOf({ eventId: 'e', topic: deliveredTopic(type), key: 'k', payload: {} })).not.toThrow();
    }
  });
});
