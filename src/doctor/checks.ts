// The checks `refdata doctor` runs: each says what it found and, when something is wrong, how to fix it.
// No check prints a secret: channel destinations are shown as host:port only, URLs without their credentials.
import dns from 'node:dns/promises';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Connection, Client, ScheduleNotFoundError } from '@temporalio/client';
import { Kafka, logLevel } from 'kafkajs';
import type { Config } from '../config';
import type { Database } from '../db/types';
import type { EmbeddedStatus } from '../db/postgres/embedded-server';
import { dropFolderTree } from '../drop-folders';
import { searchAttributeTypes } from '../ids';
import { scheduleSpecs } from '../temporal/schedules';
import { readSearchAttributeGaps } from '../temporal/search-attributes';
import { POLLER_LIVE_MS, readHost } from '../metrics/host-health';

export type CheckLevel = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  area: string;
  level: CheckLevel;
  /** What was found, in one line. */
  detail: string;
  /** What to do about it (warn and fail only). */
  fix?: string;
}

const ok = (area: string, detail: string): CheckResult => ({ area, level: 'ok', detail });
const fail = (area: string, detail: string, fix: string): CheckResult => ({ area, level: 'fail', detail, fix });
const warn = (area: string, detail: string, fix: string): CheckResult => ({ area, level: 'warn', detail, fix });

function message(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0] : String(err);
}

/** Temporal: the frontend answers, the namespace exists, our search attributes are registered with their types. */
export async function checkTemporal(config: Config, address: string, timeoutMs: number): Promise<{ results: CheckResult[]; client: Client | null; close(): Promise<void> }> {
  const ns = config.temporal.namespace;
  let connection: Connection;
  try {
    connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    const info = await connection.withDeadline(Date.now() + timeoutMs, () => connection.workflowService.getSystemInfo({}));
    const results = [ok('temporal', `reachable at ${address} (server ${info.serverVersion || 'unknown version'})`)];
    try {
      await connection.withDeadline(Date.now() + timeoutMs, () => connection.workflowService.describeNamespace({ namespace: ns }));
      results.push(ok('temporal', `namespace ${ns} exists`));
    } catch (err) {
      results.push(fail('temporal', `namespace ${ns}: ${message(err)}`, `temporal operator namespace create --namespace ${ns} --address ${address}   (or set TEMPORAL_NAMESPACE to an existing one)`));
      return { results, client: null, close: () => connection.close() };
    }
    results.push(await checkSearchAttributes(connection, ns, address, timeoutMs));
    return { results, client: new Client({ connection, namespace: ns }), close: () => connection.close() };
  } catch (err) {
    const fix = config.temporal.address
      ? `start the Temporal server at ${address}, or correct TEMPORAL_ADDRESS (host:port of the frontend)`
      : `no TEMPORAL_ADDRESS is set, so refdata expects the dev server of \`refdata dev\` (npm start) on ${address}: start it, or set TEMPORAL_ADDRESS`;
    return { results: [fail('temporal', `not reachable at ${address}: ${message(err)}`, fix)], client: null, close: async () => undefined };
  }
}

async function checkSearchAttributes(connection: Connection, namespace: string, address: string, timeoutMs: number): Promise<CheckResult> {
  const { missing, wrongType: wrong } = await readSearchAttributeGaps(connection, namespace, timeoutMs);
  if (!missing.length && !wrong.length) return ok('temporal', `search attributes registered: ${Object.keys(searchAttributeTypes).join(', ')}`);
  const create = missing.map((n) => `--name ${n} --type Keyword`).join(' ');
  return fail(
    'temporal',
    [missing.length ? `search attributes missing: ${missing.join(', ')}` : '', wrong.length ? `registered with another type (want Keyword): ${wrong.join(', ')}` : ''].filter(Boolean).join('; '),
    missing.length
      ? `temporal operator search-attribute create --namespace ${namespace} --address ${address} ${create}   (runs without them fail to start)`
      : `a search attribute's type cannot change: remove and re-create ${wrong.join(', ')} as Keyword`,
  );
}

/** Schedules: each one refdata owns exists; a pause refdata did not make itself is reported. */
export async function checkSchedules(config: Config, client: Client): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const spec of scheduleSpecs(config)) {
    try {
      const d = await client.schedule.getHandle(spec.scheduleId).describe();
      const next = d.info.nextActionTimes[0]?.toISOString();
      if (!d.state.paused) out.push(ok('schedules', `${spec.scheduleId}: active${next ? `, next run ${next}` : ''}`));
      else if (spec.pausedReason) out.push(ok('schedules', `${spec.scheduleId}: paused as configured (${d.state.note ?? spec.pausedReason})`));
      else if (d.state.note?.startsWith('refdata: ')) out.push(warn('schedules', `${spec.scheduleId}: still paused by refdata (${d.state.note}) though configuration is now complete`, 'refdata schedules apply'));
      else out.push(warn('schedules', `${spec.scheduleId}: paused by an operator${d.state.note ? ` ("${d.state.note}")` : ''}`, `if that pause is over: temporal schedule toggle --unpause --schedule-id ${spec.scheduleId} --reason "…"`));
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      out.push(fail('schedules', `${spec.scheduleId}: missing (${spec.summary} never runs)`, 'refdata schedules apply   (refdata dev does it at start)'));
    }
  }
  return out;
}

/** Database: reachable, every migration this code knows applied. */
export async function checkDatabase(open: () => Promise<Database>): Promise<{ results: CheckResult[]; db: Database | null; current: boolean }> {
  let db: Database;
  try {
    db = await open();
    await db.ping();
  } catch (err) {
    const text = message(err);
    return { results: [fail('database', `not reachable: ${text}`, 'check DATABASE_URL (host, port, user, password, database) and that the server is up')], db: null, current: false };
  }
  const status = await db.migrationStatus();
  const pending = status.filter((m) => m.appliedAt === null);
  const results = pending.length
    ? [fail('database', `${pending.length} migrations not applied: ${pending.map((m) => `${m.version}_${m.name}`).join(', ')}`, 'refdata migrate   (refdata dev, worker and api migrate at start)')]
    : [ok('database', `${db.kind}: reachable, ${status.length} migrations applied, schema current`)];
  return { results, db, current: pending.length === 0 };
}

/**
 * The embedded server (no DATABASE_URL): where it lives, whether it runs and how to reach it, back it up and leave it.
 * Read before the database check opens it, so "running" means another refdata process runs it.
 */
export function checkEmbedded(status: EmbeddedStatus): CheckResult[] {
  const where = `PostgreSQL ${status.major ?? '(not initialised yet)'} in ${status.dataDir}`;
  const reach = status.displayUrl
    ? `running at ${status.displayUrl} (password in ${status.files.password})`
    : 'not running (refdata dev starts it; doctor starts it for its checks and stops it after)';
  return [
    ok('embedded pg', `${where}, ${reach}; server log ${status.files.log}`),
    ok('embedded pg', `back up: pg_dump -Fc "<that URL with the password>" > refdata.dump while it runs, or stop refdata and copy ${status.dataDir}; ` +
      'move: restore the dump into an external PostgreSQL (pg_restore) and set DATABASE_URL, or set DATABASE_URL=mssql://… for SQL Server (docs/deployment.md)'),
  ];
}

/** Drop folders: every folder of the tree exists and accepts writes (a real write in the archive folders, which the watcher ignores). */
export async function checkDropFolders(dropRoot: string): Promise<CheckResult[]> {
  const fix = `refdata dev / watch create the tree at start; otherwise mkdir -p the missing folders and give the refdata user write access (chown/chmod), or set REFDATA_DROPOFF_DIR`;
  if (!(await fs.stat(dropRoot).catch(() => null))?.isDirectory()) return [fail('drop folders', `${dropRoot} does not exist`, fix)];
  const problems: string[] = [];
  for (const rel of dropFolderTree()) {
    const dir = path.join(dropRoot, rel);
    const st = await fs.stat(dir).catch(() => null);
    if (!st?.isDirectory()) {
      problems.push(`${rel}: missing`);
      continue;
    }
    try {
      await fs.access(dir, fs.constants.W_OK);
      if (/\/(processed|error)$/.test(rel)) {
        // access() says yes to root even on a read-only mount's permission bits; only a write proves it.
        const probe = path.join(dir, `.refdata-doctor-${process.pid}`);
        await fs.writeFile(probe, '');
        await fs.rm(probe, { force: true });
      }
    } catch (err) {
      problems.push(`${rel}: not writable (${(err as NodeJS.ErrnoException).code ?? message(err)})`);
    }
  }
  if (!problems.length) return [ok('drop folders', `${dropRoot}: all ${dropFolderTree().length} folders exist and are writable`)];
  const shown = problems.length > 4 ? [...problems.slice(0, 4), `and ${problems.length - 4} more`] : problems;
  return [fail('drop folders', `${dropRoot}: ${shown.join('; ')}`, fix)];
}

/** Kafka (only with KAFKA_BROKERS): the cluster answers a metadata request. */
export async function checkKafka(config: Config, timeoutMs: number): Promise<CheckResult[]> {
  const kafka = config.events.kafka;
  if (!kafka) return [{ area: 'kafka', level: 'skip', detail: 'KAFKA_BROKERS is not set: events use the in-process bus' }];
  const admin = new Kafka({ clientId: `${kafka.clientId}-doctor`, brokers: kafka.brokers, connectionTimeout: timeoutMs, requestTimeout: timeoutMs, retry: { retries: 0 }, logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return [ok('kafka', `${kafka.brokers.join(',')}: cluster ${cluster.clusterId}, ${cluster.brokers.length} brokers`)];
  } catch (err) {
    return [fail('kafka', `${kafka.brokers.join(',')}: ${message(err)}`, 'check KAFKA_BROKERS and that the brokers are up; until then events wait in the outbox (nothing is lost)')];
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Channels: each enabled channel's destination resolves and accepts a TCP connection. */
export async function checkChannels(db: Database, timeoutMs: number): Promise<CheckResult[]> {
  const channels = (await db.distribution.listChannels({})).filter((c) => c.enabled);
  if (!channels.length) return [{ area: 'channels', level: 'skip', detail: 'no enabled delivery channels' }];
  const byDestination = new Map<string, string[]>();
  for (const c of channels) {
    const dest = destinationOf(c.channelType, c.config);
    if (dest) byDestination.set(dest, [...(byDestination.get(dest) ?? []), c.channelId]);
  }
  const results = await Promise.all([...byDestination].map(async ([dest, ids]) => {
    const [host, port] = splitHostPort(dest);
    const which = `${dest} (${ids.length} channel${ids.length > 1 ? 's' : ''}: ${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', …' : ''})`;
    try {
      await dns.lookup(host);
      await tcpConnect(host, port, timeoutMs);
      return ok('channels', `${which}: reachable`);
    } catch (err) {
      return fail('channels', `${which}: ${message(err)}`, 'check the destination with its subscriber, or this network\'s firewall and DNS; deliveries to it retry until their deadline, then fail and can be replayed');
    }
  }));
  return results.length ? results : [{ area: 'channels', level: 'skip', detail: `${channels.length} enabled channels, none with a network destination` }];
}

/** host:port of a channel's destination, from the readable (unsealed) part of its config; null when there is none. */
export function destinationOf(type: string, config: unknown): string | null {
  const c = (config ?? {}) as Record<string, unknown>;
  const fromUrl = (u: unknown, fallbackPort: number) => {
    if (typeof u !== 'string') return null;
    try {
      const url = new URL(u);
      if (!/^https?:$/.test(url.protocol) || !url.hostname) return null; // a sealed secret parses as a URL too
      return `${url.hostname}:${url.port || fallbackPort}`;
    } catch {
      return null; // sealed (a secret) or not a URL: nothing to show
    }
  };
  switch (type) {
    case 'API_WEBHOOK': return fromUrl(c.url, c.url && String(c.url).startsWith('http:') ? 80 : 443);
    case 'SLACK_INTEGRATION': return fromUrl(c.webhookUrl, 443) ?? 'hooks.slack.com:443';
    case 'MOBILE_PUSH': return fromUrl((c.subscription as Record<string, unknown> | undefined)?.endpoint, 443);
    case 'SFTP': return typeof c.host === 'string' ? `${c.host}:${typeof c.port === 'number' ? c.port : 22}` : null;
    case 'EMAIL': return typeof c.host === 'string' ? `${c.host}:${typeof c.port === 'number' ? c.port : 587}` : null;
    default: return null;
  }
}

function splitHostPort(dest: string): [string, number] {
  const i = dest.lastIndexOf(':');
  return [dest.slice(0, i).replace(/^\[|\]$/g, ''), Number(dest.slice(i + 1))];
}

function tcpConnect(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`no answer on port ${port} within ${timeoutMs} ms`));
    });
    socket.once('error', (err) => reject(err));
  });
}

/** Disk space of the drop, archive and state folders, the host's memory, and a live poller on each watched task queue. */
export async function checkHost(config: Config, client: Client | null): Promise<CheckResult[]> {
  const t = config.alerts.host ?? { diskFreeMinMb: 0, memoryRssMaxMb: 0, taskQueues: [] };
  const snap = await readHost({
    dropRoot: config.dropoffDir, stateDir: config.stateDir, taskQueues: t.taskQueues,
    temporal: client ? { workflowService: client.workflowService, namespace: config.temporal.namespace } : undefined,
  });
  const mib = (b: number) => `${Math.floor(b / 2 ** 20).toLocaleString('en-US')} MiB`;
  const out: CheckResult[] = snap.disk.map((d) => {
    if (d.freeBytes === undefined) return warn('disk', `${d.folder} folder ${d.path}: free space not readable (${d.error})`, 'create the folder (refdata dev / watch create the drop tree) or correct its setting');
    const line = `${d.folder} folder ${d.path}: ${mib(d.freeBytes)} free of ${mib(d.sizeBytes ?? 0)}`;
    return t.diskFreeMinMb > 0 && d.freeBytes < t.diskFreeMinMb * 2 ** 20
      ? warn('disk', `${line}, under REFDATA_ALERT_DISK_FREE_MB=${t.diskFreeMinMb}`, 'free space or grow the volume; shorten REFDATA_ARCHIVE_RETENTION_DAYS / REFDATA_BKP_RETENTION_DAYS so the cleanup removes more')
      : ok('disk', line);
  });
  out.push(ok('memory', `host: ${mib(snap.memory.hostFreeBytes)} free of ${mib(snap.memory.hostTotalBytes)} (the API alerts on its own resident memory over REFDATA_ALERT_MEMORY_RSS_MB)`));
  if (!t.taskQueues.length) out.push({ area: 'task queues', level: 'skip', detail: 'REFDATA_ALERT_TASK_QUEUES is none' });
  else if (!client) out.push({ area: 'task queues', level: 'skip', detail: 'not checked: Temporal is not reachable' });
  for (const q of client ? snap.taskQueues : []) {
    if (q.error) out.push(fail('task queues', `${q.taskQueue}: ${q.error}`, 'check Temporal (above)'));
    else if (q.pollers > 0) out.push(ok('task queues', `${q.taskQueue}: ${q.pollers} worker${q.pollers > 1 ? 's' : ''} polling (last poll ${q.lastPollAt})`));
    else out.push(warn('task queues', `${q.taskQueue}: no worker has polled in the last ${POLLER_LIVE_MS / 60_000} min; its runs wait`, `start \`refdata worker\` (or \`refdata worker --queues ${q.taskQueue}\`); if no worker is meant to run it, leave it out of REFDATA_ALERT_TASK_QUEUES`));
  }
  return out;
}
