// The pure rules behind subscription preferences: which format a subscription gets, who hears of a failure, which
// subscription types hold their deliveries, and the schedule a SCHEDULED subscription has.
import { describe, expect, it } from 'vitest';
import { formatFor, unknownFormats } from '../../src/reporting/report-format';
import { failureRecipients } from '../../src/reporting/failure-notice';
import { heldForOf } from '../../src/reporting/held-deliveries';
import { subscriptionScheduleSpec } from '../../src/reporting/subscription-schedule';
import type { SubscriptionRecord } from '../../src/reporting/types';

const sub = (over: Partial<SubscriptionRecord> = {}, schedule: string | null = '0 8 * * 1-5'): SubscriptionRecord => ({
  subscriptionId: 'sub_1', subscriberId: 'client_001', subscriberType: 'SCHEDULED', reportTypes: ['RISK_REPORT'],
  deliveryPreferences: { channels: [], schedule, formatPreferences: [], notificationSettings: {} },
  filters: null, status: 'active', version: 1, createdAt: new Date(0), updatedAt: new Date(0), ...over,
});

describe('format_preferences', () => {
  it.each([
    [[], null],
    [['csv'], 'CSV'],
    [['pdf', ' json ', 'csv'], 'JSON'],
    [['Xlsx'], 'XLSX'],
    [['pdf'], null],
  ])('%j gives %s', (prefs, want) => expect(formatFor(prefs)).toBe(want));

  it('names the preferences refdata cannot produce', () => expect(unknownFormats(['csv', 'PDF', 'xml', 'docx'])).toEqual(['xml', 'docx']));
  it('a PDF preference is accepted and converts nothing: CSV reports take the next format listed, or stay CSV', () => {
    expect(unknownFormats(['pdf'])).toEqual([]);
    expect(formatFor(['pdf'])).toBeNull();
    expect(formatFor(['json', 'pdf'])).toBe('JSON');
  });
});

describe('notification_settings.on_failure', () => {
  it.each([
    [{}, { operators: true, audience: [] }],
    [{ on_failure: [] }, { operators: false, audience: [] }],
    [{ on_failure: ['subscriber'] }, { operators: false, audience: ['client_001'] }],
    [{ on_failure: ['operators', 'subscriber', 'desk-rates', 'subscriber'] }, { operators: true, audience: ['client_001', 'desk-rates'] }],
    [{ on_failure: 'subscriber' }, { operators: false, audience: ['client_001'] }],
  ])('%j tells %j', (settings, want) => expect(failureRecipients(settings, 'client_001')).toEqual(want));
});

describe('subscription types', () => {
  it('only REAL_TIME starts deliveries at once', () => {
    expect(heldForOf({ subscriberType: 'REAL_TIME' })).toBeNull();
    for (const t of ['SCHEDULED', 'ON_DEMAND', 'TRIGGERED'] as const) expect(heldForOf({ subscriberType: t })).toBe(t);
  });

  it('a SCHEDULED subscription has a schedule (paused with it); others and cancelled ones have none', () => {
    expect(subscriptionScheduleSpec(sub())).toMatchObject({
      scheduleId: 'subscription-delivery:sub_1', cron: '0 8 * * 1-5', timeZone: 'UTC', workflowType: 'subscriptionRelease', taskQueue: 'delivery',
      args: [{ subscriptionId: 'sub_1', trigger: 'schedule' }], pausedReason: undefined,
    });
    expect(subscriptionScheduleSpec(sub({ status: 'paused' }))?.pausedReason).toMatch(/^refdata: /);
    expect(subscriptionScheduleSpec(sub({ status: 'cancelled' }))).toBeNull();
    expect(subscriptionScheduleSpec(sub({ subscriberType: 'ON_DEMAND' }))).toBeNull();
    expect(subscriptionScheduleSpec(sub({}, null))).toBeNull();
  });
});
