// Subscription types over real HTTP, a real worker on Temporal, PostgreSQL and a webhook receiver on loopback:
// REAL_TIME sends at once, ON_DEMAND when asked, SCHEDULED from its own Temporal Schedule, TRIGGERED on the events it
// names; format_preferences converts CSV reports to JSON / XLSX; notification_settings decides who hears of failures.
import fs from 'node:fs/promises';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { ScheduleNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './harness';
import { parseMultipart, startHttpReceiver, type HttpReceiver, type ReceivedRequest } from '../support/peers/http-receiver';
import { call, startReportingSystem, type ReportingSystem } from '../support/reporting-system';
import { fastPolicies } from '../support/reporting';
import { subscriptionScheduleId } from '../../src/ids';
import { buildActivities } from '../../workers/worker';
import { silentLogger } from '../../src/log/logger';
import { createNotifier } from '../../src/notify/notifier';
import { createLedgerWatch } from '../../src/notify/ledger-watch';

let sys: ReportingSystem;
let receiver: HttpReceiver;
let operator: string;

beforeAll(async () => {
  sys = await startReportingSystem({ testFile: __filename, retry: fastPolicies(), worker: 'in-process' });
  receiver = await startHttpReceiver();
  // /refuse answers 400: a permanent failure, the delivery fails at once.
  receiver.respondWith((r) => (r.path.startsWith('/refuse') ? { status: 400, body: 'no' } : { status: 200, body: 'ok' }));
  operator = await sys.key('operator');
});

afterAll(async () => {
  await receiver?.close();
  await sys?.stop();
});

const CSV = 'isin,name,qty\nINE000000001,Alpha "A",10\nINE000000002,"Beta, B",20\n';
const ROWS = [['isin', 'name', 'qty'], ['INE000000001', 'Alpha "A"', '10'], ['INE000000002', 'Beta, B', '20']];

async function subscribe(subscriberId: string, type: string, pathName: string, prefs: Record<string, unknown> = {}, reportType = 'RISK_REPORT'): Promise<string> {
  const res = await call(sys.baseUrl, operator, 'POST', '/api/v1/reporting/subscribe', {
    subscriber_id: subscriberId, subscriber_type: type, report_types: [reportType],
    delivery_preferences: { channels: [{ channel_type: 'API_WEBHOOK', config: { url: receiver.url(pathName) } }], ...prefs },
  });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return (res.json.subscription as { subscription_id: string }).subscription_id;
}

interface Accepted { delivery_id: string; subscription_id: string; held_for: string | null }

async function deliverCsv(reportId: string, reportType = 'RISK_REPORT', subscribers?: string[]): Promise<Accepted[]> {
  const file = path.join(sys.reportRoot, `${reportId}.csv`);
  await fs.writeFile(file, CSV);
  const res = await call(sys.baseUrl, operator, 'POST', '/api/v1/reporting/deliver', {
    report: { report_id: reportId, report_type: reportType, file_path: file }, ...(subscribers ? { target_subscribers: subscribers } : {}),
  });
  expect(res.status, JSON.stringify(res.json)).toBe(202);
  return res.json.deliveries as Accepted[];
}

const requestsAt = (p: string): ReceivedRequest[] => receiver.requests.filter((r) => r.path === p);
const filePart = (r: ReceivedRequest) => parseMultipart(r.body, String(r.headers['content-type'])).find((p) => p.fileName)!;

async function finalStatus(deliveryId: string): Promise<string> {
  return waitFor(`delivery ${deliveryId} final`, async () => {
    const [row] = await sys.rows<{ status: string }>('SELECT status FROM dist.delivery_history WHERE delivery_id = $1', [deliveryId]);
    return row && ['delivered', 'failed', 'cancelled'].includes(row.status) ? row.status : null;
  }, 60_000);
}

describe('subscription types', () => {
  it('REAL_TIME sends at once, converted to the format it prefers: JSON and XLSX read back to the CSV rows', async () => {
    await subscribe('rt_json', 'REAL_TIME', '/rt-json', { format_preferences: ['json', 'csv'] });
    await subscribe('rt_xlsx', 'REAL_TIME', '/rt-xlsx', { format_preferences: ['XLSX'] });
    await subscribe('rt_csv', 'REAL_TIME', '/rt-csv');
    const accepted = await deliverCsv('risk_rt_1');
    expect(accepted.map((d) => d.held_for)).toEqual([null, null, null]);
    for (const d of accepted) expect(await finalStatus(d.delivery_id)).toBe('delivered');

    expect(requestsAt('/rt-json')).toHaveLength(1);
    const json = filePart(requestsAt('/rt-json')[0]);
    expect(json.fileName).toBe('risk_rt_1.json');
    expect(json.contentType).toContain('application/json');
    expect(JSON.parse(json.data.toString('utf8'))).toEqual(ROWS.slice(1).map((r) => Object.fromEntries(ROWS[0].map((h, i) => [h, r[i]]))));

    expect(requestsAt('/rt-xlsx')).toHaveLength(1);
    const xlsx = filePart(requestsAt('/rt-xlsx')[0]);
    expect(xlsx.fileName).toBe('risk_rt_1.xlsx');
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(xlsx.data as unknown as ArrayBuffer);
    const sheet = book.worksheets[0];
    const cells: string[][] = [];
    sheet.eachRow((row) => cells.push((row.values as unknown[]).slice(1).map(String)));
    expect(cells).toEqual(ROWS);

    // No preference: the file goes as it is.
    const csv = filePart(requestsAt('/rt-csv')[0]);
    expect(csv.fileName).toBe('risk_rt_1.csv');
    expect(csv.data.toString('utf8')).toBe(CSV);
    // Converted copies are registered for the retention sweep.
    const copies = await sys.db.retention.listDeliveryFiles(100);
    expect(copies.filter((c) => c.kind === 'report-copy' && c.reportId === 'risk_rt_1')).toHaveLength(2);
  });

  it('refuses unknown formats, a SCHEDULED subscription without a cron and a TRIGGERED one without events', async () => {
    const bad = async (body: Record<string, unknown>) =>
      (await call(sys.baseUrl, operator, 'POST', '/api/v1/reporting/subscribe', {
        subscriber_id: 'bad', report_types: ['RISK_REPORT'], ...body,
      })).json.error as { code: string };
    const channels = ['DASHBOARD_NOTIFICATION'];
    expect(await bad({ delivery_preferences: { channels, format_preferences: ['xml'] } })).toMatchObject({ code: 'INVALID_FORMAT' });
    expect(await bad({ subscriber_type: 'SCHEDULED', delivery_preferences: { channels } })).toMatchObject({ code: 'SCHEDULE_REQUIRED' });
    expect(await bad({ subscriber_type: 'SCHEDULED', delivery_preferences: { channels, schedule: 'every day' } })).toMatchObject({ code: 'INVALID_SCHEDULE' });
    expect(await bad({ subscriber_type: 'TRIGGERED', delivery_preferences: { channels } })).toMatchObject({ code: 'TRIGGER_EVENTS_REQUIRED' });
    expect(await sys.rows("SELECT 1 FROM dist.report_subscriptions WHERE subscriber_id = 'bad'")).toEqual([]);
  });

  it('ON_DEMAND holds every report until asked, then sends each once', async () => {
    const subscriptionId = await subscribe('od', 'ON_DEMAND', '/od');
    const first = await deliverCsv('risk_od_1', 'RISK_REPORT', ['od']);
    const second = await deliverCsv('risk_od_2', 'RISK_REPORT', ['od']);
    expect([...first, ...second].map((d) => d.held_for)).toEqual(['ON_DEMAND', 'ON_DEMAND']);
    // A REAL_TIME delivery started after them arrives; the held ones stay pending, with no run.
    await subscribe('od_probe', 'REAL_TIME', '/od-probe');
    const probe = await deliverCsv('risk_od_probe', 'RISK_REPORT', ['od_probe']);
    expect(await finalStatus(probe[0].delivery_id)).toBe('delivered');
    expect(requestsAt('/od')).toHaveLength(0);
    const held = await sys.rows<{ status: string; held_for: string; released_at: Date | null }>(
      'SELECT status, held_for, released_at FROM dist.delivery_history WHERE subscription_id = $1 ORDER BY report_id', [subscriptionId]);
    expect(held).toEqual([{ status: 'pending', held_for: 'ON_DEMAND', released_at: null }, { status: 'pending', held_for: 'ON_DEMAND', released_at: null }]);
    await expect(sys.client.workflow.getHandle(`delivery:${first[0].delivery_id}`).describe()).rejects.toThrow();

    // Another subscriber cannot release it.
    const other = await sys.key('subscriber', 'someone_else');
    expect((await call(sys.baseUrl, other, 'POST', `/api/v1/reporting/subscriptions/${subscriptionId}/deliver-now`)).status).toBe(404);
    const own = await sys.key('subscriber', 'od');
    const now = await call(sys.baseUrl, own, 'POST', `/api/v1/reporting/subscriptions/${subscriptionId}/deliver-now`);
    expect(now.status).toBe(202);
    expect((now.json.released as { report_id: string }[]).map((d) => d.report_id).sort()).toEqual(['risk_od_1', 'risk_od_2']);
    for (const d of [...first, ...second]) expect(await finalStatus(d.delivery_id)).toBe('delivered');
    // Asked again: nothing is held, nothing goes twice.
    const again = await call(sys.baseUrl, own, 'POST', `/api/v1/reporting/subscriptions/${subscriptionId}/deliver-now`);
    expect(again.json.released).toEqual([]);
    expect(requestsAt('/od').map((r) => r.headers['webhook-id']).sort()).toEqual([first[0].delivery_id, second[0].delivery_id].sort());
    const rows = await sys.rows<{ released: boolean }>('SELECT released_at IS NOT NULL AS released FROM dist.delivery_history WHERE subscription_id = $1', [subscriptionId]);
    expect(rows).toEqual([{ released: true }, { released: true }]);
  });

  it('SCHEDULED gets a Temporal Schedule that sends what it collected, once each even when a release fails part-way; PATCH updates it, pause pauses it, cancel removes it', async () => {
    const subscriptionId = await subscribe('sched', 'SCHEDULED', '/sched', { schedule: '0 3 * * *' });
    const handle = sys.client.schedule.getHandle(subscriptionScheduleId(subscriptionId));
    const created = await handle.describe();
    expect(created.spec.calendars?.[0]?.hour).toEqual([{ start: 3, end: 3, step: 1 }]);
    expect(created.action).toMatchObject({ type: 'startWorkflow', workflowType: 'subscriptionRelease', args: [{ subscriptionId, trigger: 'schedule' }] });
    expect(created.state.paused).toBe(false);

    const accepted = await deliverCsv('risk_sched_1', 'RISK_REPORT', ['sched']);
    expect(accepted[0].held_for).toBe('SCHEDULED');

    // Fault: marking the release fails (as if the worker died after starting the runs); the release is retried.
    await sys.rows(`CREATE FUNCTION dist.refuse_release() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected release failure'; END $$`);
    await sys.rows('CREATE TRIGGER refuse_release BEFORE UPDATE OF released_at ON dist.delivery_history FOR EACH ROW EXECUTE FUNCTION dist.refuse_release()');
    try {
      await handle.trigger();
      expect(await finalStatus(accepted[0].delivery_id)).toBe('delivered');
      // The release activity fails and retries while the trigger is there; the delivery's run is not started again.
      await waitFor('a failed release attempt', async () => {
        const runs = await handle.describe();
        const runId = runs.info.recentActions[0]?.action.workflow.workflowId;
        if (!runId) return null;
        const d = await sys.client.workflow.getHandle(runId).describe();
        return d.raw.pendingActivities?.some((a) => (a.attempt ?? 0) > 1) ? true : null;
      }, 60_000);
    } finally {
      await sys.rows('DROP TRIGGER refuse_release ON dist.delivery_history');
      await sys.rows('DROP FUNCTION dist.refuse_release()');
    }
    await waitFor('the release marked', async () => {
      const [row] = await sys.rows<{ released_at: Date | null }>('SELECT released_at FROM dist.delivery_history WHERE delivery_id = $1', [accepted[0].delivery_id]);
      return row?.released_at ?? null;
    }, 60_000);
    // A second scheduled run finds nothing held.
    await handle.trigger();
    await waitFor('two scheduled runs', async () => ((await handle.describe()).info.recentActions.length >= 2 ? true : null), 30_000);
    const second = (await handle.describe()).info.recentActions[1].action.workflow.workflowId;
    expect(await sys.client.workflow.getHandle(second).result()).toMatchObject({ subscriptionId, released: 0, skipped: null });
    expect(requestsAt('/sched').map((r) => r.headers['webhook-id'])).toEqual([accepted[0].delivery_id]);

    const patched = await call(sys.baseUrl, operator, 'PATCH', `/api/v1/reporting/subscriptions/${subscriptionId}`, { delivery_preferences: { schedule: '30 5 * * 1-5' } });
    expect(patched.status).toBe(200);
    const updated = await handle.describe();
    expect(updated.spec.calendars?.[0]?.hour).toEqual([{ start: 5, end: 5, step: 1 }]);
    expect(updated.spec.calendars?.[0]?.minute).toEqual([{ start: 30, end: 30, step: 1 }]);
    // A cron Temporal cannot read is refused and nothing changes.
    const refused = await call(sys.baseUrl, operator, 'PATCH', `/api/v1/reporting/subscriptions/${subscriptionId}`, { delivery_preferences: { schedule: '99 99 * * *' } });
    expect(refused.status).toBe(400);
    expect((await handle.describe()).spec.calendars?.[0]?.hour).toEqual([{ start: 5, end: 5, step: 1 }]);
    const [stored] = await sys.rows<{ schedule: string }>("SELECT delivery_preferences->>'schedule' AS schedule FROM dist.report_subscriptions WHERE subscription_id = $1", [subscriptionId]);
    expect(stored.schedule).toBe('30 5 * * 1-5');

    await call(sys.baseUrl, operator, 'PATCH', `/api/v1/reporting/subscriptions/${subscriptionId}`, { action: 'pause' });
    expect((await handle.describe()).state.paused).toBe(true);
    await call(sys.baseUrl, operator, 'PATCH', `/api/v1/reporting/subscriptions/${subscriptionId}`, { action: 'resume' });
    expect((await handle.describe()).state.paused).toBe(false);

    // A report held when the subscription is cancelled is cancelled with it, never sent.
    const late = await deliverCsv('risk_sched_2', 'RISK_REPORT', ['sched']);
    expect((await call(sys.baseUrl, operator, 'DELETE', `/api/v1/reporting/subscriptions/${subscriptionId}`)).status).toBe(200);
    await expect(handle.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    const [cancelled] = await sys.rows<{ status: string }>('SELECT status FROM dist.delivery_history WHERE delivery_id = $1', [late[0].delivery_id]);
    expect(cancelled.status).toBe('cancelled');
  });

  it('TRIGGERED sends what it holds when an event it names happens, and not on other events', async () => {
    const onLoad = await subscribe('trig_load', 'TRIGGERED', '/trig-load', { trigger_events: ['file.loaded'] });
    const onSync = await subscribe('trig_sync', 'TRIGGERED', '/trig-sync', { trigger_events: ['sync.succeeded'] });
    const accepted = await deliverCsv('risk_trig_1', 'RISK_REPORT', ['trig_load', 'trig_sync']);
    expect(accepted.map((d) => d.held_for)).toEqual(['TRIGGERED', 'TRIGGERED']);

    // The real file activity records a loaded file: that is the `file.loaded` event.
    const acts = buildActivities({ db: sys.db, log: silentLogger(), client: sys.client, config: { dropoffDir: sys.reportRoot, batchRows: 100 } });
    await acts.recordOutcome({ filePath: 'instruments/trigger.csv', status: 'loaded', rowsLoaded: 3, archivedTo: null });
    const loadDelivery = accepted.find((d) => d.subscription_id === onLoad)!;
    expect(await finalStatus(loadDelivery.delivery_id)).toBe('delivered');
    expect(requestsAt('/trig-load')).toHaveLength(1);
    const [still] = await sys.rows<{ status: string; released_at: Date | null }>('SELECT status, released_at FROM dist.delivery_history WHERE subscription_id = $1', [onSync]);
    expect(still).toEqual({ status: 'pending', released_at: null });
    expect(requestsAt('/trig-sync')).toHaveLength(0);
  });

  it('notification_settings.on_failure: the subscriber gets a dashboard notice and operators are left out when it says so', async () => {
    const quiet = await subscribe('fail_sub', 'REAL_TIME', '/refuse-sub', { notification_settings: { on_failure: ['subscriber'] } }, 'ALERT_REPORT');
    const loud = await subscribe('fail_ops', 'REAL_TIME', '/refuse-ops', {}, 'ALERT_REPORT');
    const notifier = createNotifier();
    const watch = createLedgerWatch({ db: sys.db, notifier, log: silentLogger() });
    const accepted = await deliverCsv('alert_fail_1', 'ALERT_REPORT');
    for (const d of accepted) expect(await finalStatus(d.delivery_id)).toBe('failed');
    const quietId = accepted.find((d) => d.subscription_id === quiet)!.delivery_id;
    const loudId = accepted.find((d) => d.subscription_id === loud)!.delivery_id;

    // The ledger watch (the API's) hears of failed deliveries and tells whom each subscription names.
    const notices = await waitFor('the failure notice', async () => {
      await watch.poll();
      const rows = await sys.rows<{ id: string; subscriber_id: string | null; body: string }>('SELECT id, subscriber_id, body::text AS body FROM dist.notifications WHERE report_id = $1', ['alert_fail_1']);
      return rows.length > 0 ? rows : null;
    }, 30_000);
    expect(notices.map((n) => ({ id: n.id, subscriber: n.subscriber_id }))).toEqual([{ id: quietId, subscriber: 'fail_sub' }]);
    expect(JSON.parse(notices[0].body)).toMatchObject({ audience: ['fail_sub'], severity: 'warning', metadata: { delivery_id: quietId } });
    // Dated when the delivery failed, and the same however often the watch looks again.
    const [failedAt] = await sys.rows<{ updated_at: Date }>('SELECT updated_at FROM dist.delivery_history WHERE delivery_id = $1', [quietId]);
    expect((JSON.parse(notices[0].body) as { createdAt: string }).createdAt).toBe(failedAt!.updated_at.toISOString());
    await watch.poll();
    const [again] = await sys.rows<{ body: string }>('SELECT body::text AS body FROM dist.notifications WHERE id = $1', [quietId]);
    expect(again!.body).toBe(notices[0].body);

    const raised = notifier.recent().filter((n) => n.kind === 'delivery.failed').map((n) => n.refs.deliveryId);
    expect(raised).toContain(loudId);
    expect(raised).not.toContain(quietId);
  });
});
