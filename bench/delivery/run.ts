// bench/delivery: POST /api/v1/reporting/deliver → webhook receipt on loopback, with the worker and API in this process
// (as `refdata dev` runs them), the dev server as its child, and the client and receiver in another (peer.ts). Sustains a rate for a duration and reports latency percentiles, then finds the highest rate whose P99 < 100 ms.
// Usage: npx tsx bench/delivery/run.ts [--rate 100] [--duration 60] [--search 5,10,20,30,40,60,80,100,150] [--search-duration 15]
//        [--warmup 5] [--drain 60] [--eager-activities true|false] [--eager-start true|false] [--events outbox|none] [--out FILE]
//        → JSON on stdout (and in FILE)
// --search '' skips the search; --duration is the sustained phase's length in seconds.
import { fork } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { buildApi } from '../../src/api/server';
import { loadConfig } from '../../src/config';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { PgExecutor, PgSession } from '../../src/db/postgres/executor';
import { silentLogger } from '../../src/log/logger';
import { createApiKey } from '../../src/reporting/api-keys';
import { createDeliveryNotifier } from '../../src/reporting/notifier';
import { secretsKeyFrom } from '../../src/reporting/sealed-config';
import { startWorker } from '../../workers/worker';
import { startEventRelay } from '../../src/events';
import { createBenchDatabase, temporalCpuMs } from '../lib/env';
import { devServerDynamicConfigArgs, devServerSearchAttributeArgs } from '../../src/ids';
import { resolveTemporalCli } from '../../src/temporal/cli-path';
import { findFreePort, startDevServer } from '../../src/temporal/dev-server';
import { writeWorkflowBundle } from '../lib/worker-process';
import type { PeerCommand, PeerMessage } from './peer';

interface Phase {
  rate: number; seconds: number; sent: number; received: number;
  /** Not received within the drain time after the last send (queued behind a saturated machine, or lost). */
  late: number;
  p50: number; p95: number; p99: number; max: number; p99FromAccepted: number; achievedRate: number;
  /** CPU time per delivery: refdata (API + worker, this process), the Temporal dev server, PostgreSQL, and the peer process. */
  cpuMsPerDelivery: { refdata: number; temporalServer: number | null; postgres: number; loadGeneratorAndReceiver: number };
  /** PostgreSQL statements per delivery (API, worker and outbox relay), by their first words. */
  statementsPerDelivery: Record<string, number>;
  /** Temporal frontend requests per delivery, by method (the dev server's metrics). */
  serverRequestsPerDelivery: Record<string, number>;
  /** os.loadavg() (1, 5, 15 min) when the phase started and ended: other work on the machine disturbs the figures. */
  loadAverage: { start: number[]; end: number[] };
}

/** CPU milliseconds used so far by the PostgreSQL backends serving `database` (their process titles name it), from /proc. */
function postgresCpuMs(database: string): Map<string, number> {
  const byPid = new Map<string, number>();
  try {
    for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(` ${database} `)) continue;
        const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        byPid.set(pid, ((Number(fields[11]) + Number(fields[12])) * 1000) / 100);
      } catch {
        // the backend went away
      }
    }
  } catch {
    // not Linux
  }
  return byPid;
}

/** CPU between two samples of postgresCpuMs (a backend that started in between counts from zero). */
function postgresCpuDelta(before: Map<string, number>, after: Map<string, number>): number {
  let sum = 0;
  for (const [pid, ms] of after) sum += ms - (before.get(pid) ?? 0);
  return sum;
}

/** Frontend requests served so far, by gRPC method, from the dev server's Prometheus endpoint. */
async function serverRequests(metricsUrl: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  try {
    const text = await (await fetch(metricsUrl)).text();
    for (const line of text.split('\n')) {
      if (!line.startsWith('service_requests{') || !line.includes('service_name="frontend"')) continue;
      const op = /operation="([^"]+)"/.exec(line)?.[1];
      if (op) counts.set(op, (counts.get(op) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
    }
  } catch {
    // metrics are a diagnostic: a failed scrape leaves the figure out
  }
  return counts;
}

/** Requests per delivery by method between two scrapes (long polls count once per answered or expired poll). */
function requestsPerDelivery(before: Map<string, number>, after: Map<string, number>, deliveries: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [op, n] of after) {
    const d = (n - (before.get(op) ?? 0)) / Math.max(deliveries, 1);
    if (d >= 0.005) out[op] = Math.round(d * 100) / 100;
  }
  return out;
}

/** Counts the statements a PostgreSQL executor runs, by their first words (what one delivery costs the database). */
function countingStatements(exec: PgExecutor, counts: Map<string, number>): PgExecutor {
  const count = (sql: string) => {
    const key = sql.replace(/\s+/g, ' ').trim().slice(0, 60);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  const session = (x: PgSession): PgSession => ({
    ...x,
    query: (sql, params) => (count(sql), x.query(sql, params)),
    exec: (sql) => (count(sql), x.exec(sql)),
  });
  return { ...session(exec), transaction: (fn) => (count('BEGIN … COMMIT'), exec.transaction((tx) => fn(session(tx)))), close: () => exec.close() };
}

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN);
const ms = (n: number) => Math.round(n * 10) / 10;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '100' },
      duration: { type: 'string', default: '60' },
      search: { type: 'string', default: '5,10,20,30,40,60,80,100,150' },
      'search-duration': { type: 'string', default: '15' },
      warmup: { type: 'string', default: '5' },
      drain: { type: 'string', default: '60' },
      'eager-activities': { type: 'string', default: 'true' },
      'eager-start': { type: 'string', default: 'true' },
      events: { type: 'string', default: 'outbox' },
      out: { type: 'string' },
    },
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'refdata-bench-delivery-'));
  // Receiver and load generator run in a child process (bench/delivery/peer.ts).
  const peer = fork(path.join(__dirname, 'peer.ts'), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = <T extends PeerMessage['type']>(cmd: PeerCommand, want: T): Promise<Extract<PeerMessage, { type: T }>> =>
    new Promise((resolve, reject) => {
      const onMessage = (m: PeerMessage) => {
        if (m.type !== want && m.type !== 'failed') return;
        peer.off('message', onMessage);
        if (m.type === 'failed') reject(new Error(`peer: ${m.error}`));
        else resolve(m as Extract<PeerMessage, { type: T }>);
      };
      peer.on('message', onMessage);
      if (cmd.type !== 'stop' || peer.connected) peer.send(cmd);
    });
  const { hookUrl } = await new Promise<{ hookUrl: string }>((resolve, reject) => {
    peer.once('message', (m: PeerMessage) => (m.type === 'ready' ? resolve(m) : reject(new Error(`peer: ${JSON.stringify(m)}`))));
    peer.once('exit', (code) => reject(new Error(`peer exited (${code})`)));
  });

  const bdb = await createBenchDatabase();
  const statements = new Map<string, number>();
  const dbName = new URL(bdb.url).pathname.slice(1);
  const db = createPostgresDatabase(countingStatements(createNodePgExecutor(bdb.url, { max: 20 }), statements), 'postgres');
  await db.migrate();
  // Eager activity execution as `refdata dev` runs it (devServerDynamicConfigArgs); --eager-activities false measures without.
  const eager = values['eager-activities'] !== 'false';
  const metricsPort = await findFreePort();
  const server = await startDevServer({
    cliPath: resolveTemporalCli(), port: await findFreePort(), headless: true,
    searchAttributeArgs: [...devServerSearchAttributeArgs(), ...(eager ? devServerDynamicConfigArgs() : []), '--metrics-port', String(metricsPort)],
  });
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const config = loadConfig({ REFDATA_ALLOW_PRIVATE_DESTINATIONS: 'true' });
  const secretsKey = secretsKeyFrom(Buffer.alloc(32, 7).toString('base64'));
  const feed = createDeliveryNotifier();
  // report_distributed through the outbox and its relay (the in-process bus without Kafka), as `refdata dev` runs it.
  const events = values.events === 'none' ? null : await startEventRelay({ db, config, log: silentLogger() });
  const worker = await startWorker({
    address: server.address, namespace: 'default', client, db, log: silentLogger(),
    config: { dropoffDir: dir, batchRows: 1000, reporting: config.reporting }, queues: ['delivery', 'delivery-priority'],
    delivery: { secretsKey, feed, ...(events ? { events: events.publisher } : {}) }, workflowBundlePath: await writeWorkflowBundle(path.join(dir, 'bundle.js')),
  });
  // Eager workflow start as `refdata dev` runs it: deliveries start through a client on the worker's own connection.
  const eagerStart = values['eager-start'] !== 'false';
  const deliveryClient = eagerStart ? new Client({ connection: worker.connection }) : undefined;
  const adminKey = 'bench-admin-key-0123456789abcdef';
  const api = await buildApi({
    db, client, log: silentLogger(), dropRoot: dir, adminKey,
    reporting: { secretsKey, allowPrivateDestinations: true, reportRoots: [dir], retry: config.reporting.retry, streamPollMs: 1000, feed, deliveryClient },
  });
  await api.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
  const operator = (await createApiKey(db.distribution, { role: 'operator' })).key;
  const post = (url: string, body: unknown) => fetch(`${base}${url}`, { method: 'POST', headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const sub = await post('/api/v1/reporting/subscribe', { subscriber_id: 'bench', report_types: ['ALERT_REPORT'], delivery_preferences: { channels: [{ channel_type: 'API_WEBHOOK', config: { url: hookUrl, format: 'json' } }] } });
  if (sub.status !== 201) throw new Error(`subscribe: ${sub.status} ${await sub.text()}`);

  let lastDeliveryId: string | null = null;
  /** One phase: the peer sends `rate` deliveries a second for `seconds` and waits for them; this process measures the cost. */
  async function run(rate: number, seconds: number): Promise<Phase> {
    const load0 = os.loadavg().map(ms);
    const requests0 = await serverRequests(metricsUrl);
    const statements0 = new Map(statements);
    const cpu0 = process.cpuUsage();
    const server0 = temporalCpuMs(server.address);
    const pg0 = postgresCpuMs(dbName);
    const { run: r } = await ask({ type: 'run', rate, seconds, drainS: Number(values.drain), base, key: operator }, 'ran');
    const cpu = process.cpuUsage(cpu0);
    const server1 = temporalCpuMs(server.address);
    const per = (total: number) => ms(total / Math.max(r.sent, 1));
    lastDeliveryId = r.lastDeliveryId ?? lastDeliveryId;
    const fromSent = [...r.fromSent].sort((a, b) => a - b);
    const fromAccepted = [...r.fromAccepted].sort((a, b) => a - b);
    return {
      rate, seconds, sent: r.sent, received: fromSent.length, late: r.sent - fromSent.length,
      p50: ms(percentile(fromSent, 50)), p95: ms(percentile(fromSent, 95)), p99: ms(percentile(fromSent, 99)), max: ms(fromSent[fromSent.length - 1] ?? NaN),
      p99FromAccepted: ms(percentile(fromAccepted, 99)), achievedRate: ms(r.sent / r.sendSeconds),
      cpuMsPerDelivery: {
        refdata: per((cpu.user + cpu.system) / 1000),
        temporalServer: server0 !== null && server1 !== null ? per(server1 - server0) : null,
        postgres: per(postgresCpuDelta(pg0, postgresCpuMs(dbName))),
        loadGeneratorAndReceiver: per(r.cpuMs),
      },
      statementsPerDelivery: requestsPerDelivery(statements0, statements, r.sent),
      serverRequestsPerDelivery: requestsPerDelivery(requests0, await serverRequests(metricsUrl), r.sent),
      loadAverage: { start: load0, end: os.loadavg().map(ms) },
    };
  }

  const settle = async (limitS = 300) => void (await ask({ type: 'settle', limitS }, 'settled'));

  // Awaiting only native (Temporal core) promises holds no libuv handle: without this, Node may exit mid-run, silently.
  const keepAlive = setInterval(() => undefined, 1000);
  try {
    await run(Math.min(Number(values.rate), 10), Number(values.warmup));
    await settle();
    // Lowest rate first, stopping at the first that misses: a saturated phase leaves a backlog behind it.
    const search: Phase[] = [];
    for (const rate of values.search.split(',').filter(Boolean).map(Number).filter((r) => r > 0).sort((a, b) => a - b)) {
      await settle();
      const phase = await run(rate, Number(values['search-duration']));
      search.push(phase);
      if (phase.p99 >= 100 || phase.late > 0) break; // higher rates only get worse
    }
    await settle();
    const main = await run(Number(values.rate), Number(values.duration));
    // What one delivery costs the server: its history's events (each a write to Temporal's persistence).
    const history = lastDeliveryId ? await (deliveryClient ?? client).workflow.getHandle(`delivery:${lastDeliveryId}`).fetchHistory() : null;
    const historyOfOneDelivery = (history?.events ?? []).map((e) => String(temporal.api.enums.v1.EventType[e.eventType ?? 0]).replace(/^EVENT_TYPE_/, ''));
    const passing = search.filter((p) => p.p99 < 100 && p.late === 0 && p.achievedRate >= p.rate * 0.95);
    const report = `${JSON.stringify({
      bench: 'delivery',
      what: 'POST /api/v1/reporting/deliver sent → webhook received on loopback (ms); p99FromAccepted measures from the 202 instead',
      machine: { cpus: os.cpus().length, loadAverage1m: ms(os.loadavg()[0]) },
      temporal: { server: 'temporal CLI dev server, in memory', eagerActivityExecution: eager, eagerWorkflowStart: eagerStart },
      events: values.events === 'none' ? 'none' : 'outbox + relay to the in-process bus',
      sustained: main,
      historyOfOneDelivery,
      search,
      highestRateWithP99Under100ms: passing.length ? passing[passing.length - 1].rate : null,
      target: { rate: 100, p99Ms: 100 },
    }, null, 2)}\n`;
    // Temporal core logs warnings (e.g. slow workflow tasks) to stdout as well: --out keeps a clean copy.
    if (values.out) fs.writeFileSync(values.out, report);
    process.stdout.write(report);
  } finally {
    clearInterval(keepAlive);
    await api.close();
    await worker.shutdown();
    await events?.stop();
    await connection.close();
    await db.close();
    await server.stop();
    await bdb.drop();
    peer.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench/delivery failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
