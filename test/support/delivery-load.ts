// Drives the reliability tests: subscribe N webhooks through the API, deliver M reports to all of them, count states.
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import { defaultChannelHealthSettings } from '../../src/reporting/channel-health';
import { startFlakyReceiver, type FlakyReceiver } from './peers/flaky-webhook';
import { fastPolicies } from './reporting';
import { call, startReportingSystem, type ReportingSystem } from './reporting-system';

export interface LoadScenario {
  sys: ReportingSystem;
  /** Answers 500 to 30 % of requests and stalls 1.5 s (past the 500 ms attempt timeout) on 5 %. */
  receiver: FlakyReceiver;
  counter: ReturnType<typeof statusCounter>;
  stop(): Promise<void>;
}

/**
 * The reliability tests' world: a reporting system with its own dev server, fast retry policies (500 ms to answer,
 * retries about a second apart: the dev server's timer granularity) within `deadlineMs`, channel health as configured
 * by default but probed within a second or two — a channel paused near the end of the run (the tail of a channel's
 * deliveries may fail 5 times in a row after a quiet minute) must not push the run past its bound while its probes
 * back off from 30 s — and the flaky receiver.
 */
export async function startLoadScenario(opts: { testFile: string; worker: 'in-process' | 'child'; deadlineMs: number; seed?: number }): Promise<LoadScenario> {
  const sys = await startReportingSystem({
    testFile: opts.testFile,
    channelHealth: { ...defaultChannelHealthSettings, probeInitialMs: 1_000, probeMaxMs: 2_000 },
    retry: fastPolicies({ attemptTimeoutMs: 500, initialIntervalMs: 200, backoffCoefficient: 1.5, maximumIntervalMs: 1_000, deadlineMs: opts.deadlineMs }),
    worker: opts.worker,
    ownTemporal: true,
  });
  const counter = statusCounter(sys.dbUrl);
  const receiver = await startFlakyReceiver({ errorShare: 0.3, stallShare: 0.05, stallMs: 1_500, ...(opts.seed === undefined ? {} : { seed: opts.seed }) });
  return {
    sys, receiver, counter,
    async stop() {
      await counter.close();
      await receiver.close();
      await sys.stop();
    },
  };
}

/** Subscribes `subscribers` webhooks (ids sub_01…) to RISK_REPORT, all pointing at `url`. */
export async function subscribeWebhooks(sys: ReportingSystem, key: string, subscribers: number, url: string): Promise<void> {
  for (let i = 1; i <= subscribers; i++) {
    const res = await call(sys.baseUrl, key, 'POST', '/api/v1/reporting/subscribe', {
      subscriber_id: `sub_${String(i).padStart(2, '0')}`,
      report_types: ['RISK_REPORT'],
      delivery_preferences: { channels: [{ channel_type: 'API_WEBHOOK', config: { url, format: 'json' } }] },
    });
    if (res.status !== 201) throw new Error(`subscribe failed: ${res.status} ${JSON.stringify(res.json)}`);
  }
}

/** POSTs `reports` reports (4 requests in flight); returns every delivery id the API accepted. */
export async function deliverReports(sys: ReportingSystem, key: string, reports: number, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  const lane = async () => {
    while (next < reports) {
      const n = next++;
      const res = await call(sys.baseUrl, key, 'POST', '/api/v1/reporting/deliver', {
        report: { report_id: `${prefix}_${n}`, report_type: 'RISK_REPORT', portfolio_id: 'portfolio_001', content: { content_type: 'application/json', text: JSON.stringify({ n }) } },
      });
      if (res.status !== 202) throw new Error(`deliver failed: ${res.status} ${JSON.stringify(res.json)}`);
      for (const d of res.json.deliveries as { delivery_id: string }[]) ids.push(d.delivery_id);
    }
  };
  await Promise.all([lane(), lane(), lane(), lane()]);
  return ids;
}

/** Counts deliveries by status (and how many were retried) over one connection, for polling. */
export function statusCounter(dbUrl: string): { counts(): Promise<Record<string, number> & { retried: number; maxRetries: number }>; close(): Promise<void> } {
  const pg = createNodePgExecutor(dbUrl, { max: 1 });
  return {
    async counts() {
      const rows = await pg.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM dist.delivery_history GROUP BY status');
      const [r] = await pg.query<{ retried: string; max: number | null }>('SELECT count(*) FILTER (WHERE retry_count > 0) AS retried, max(retry_count) AS max FROM dist.delivery_history');
      return Object.assign(Object.fromEntries(rows.map((x) => [x.status, Number(x.n)])), { retried: Number(r.retried), maxRetries: Number(r.max ?? 0) });
    },
    close: () => pg.close(),
  };
}
