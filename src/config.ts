// Every environment variable refdata reads: parsed, validated and documented in one place.
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { ChannelType } from './channels/types';
import type { DistributionConfig } from './distribution/types';
import { defaultChannelHealthSettings, type ChannelHealthSettings } from './reporting/channel-health';
import { parseRetryOverrides, resolveRetryPolicies, type DeliveryRetryPolicy } from './reporting/retry-policy';
import type { RecordRetentionDays } from './db/record-retention';
import type { PerformanceThresholds } from './metrics/performance-alerts';
import { parseAlertChannel, type OutboundAlertSettings } from './notify/alert-channel';
import { taskQueues } from './ids';

/** One documented setting; the README's configuration table is generated from this list. */
export interface SettingDoc {
  name: string;
  default: string;
  description: string;
}

const int = (min: number) => z.coerce.number().int().min(min);

const schema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^(postgres|postgresql|mssql|sqlserver):\/\//, 'must start with postgres://, postgresql://, mssql:// or sqlserver://')
    .optional(),
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_UI_URL: z.string().url().optional(),
  TEMPORAL_CLI: z.string().optional(),
  REFDATA_STATE_DIR: z.string().min(1).default('./.refdata'),
  REFDATA_DROPOFF_DIR: z.string().min(1).default('./dropoff'),
  REFDATA_API_HOST: z.string().min(1).default('127.0.0.1'),
  REFDATA_API_PORT: int(0).max(65535).default(3000),
  REFDATA_PLAN_MAX_BYTES: int(1024).default(50 * 1024 * 1024),
  REFDATA_BODY_MAX_BYTES: int(1024).default(1024 * 1024),
  REFDATA_UPLOAD_MAX_BYTES: int(1024).default(1024 * 1024 * 1024),
  REFDATA_RATE_LIMIT_MAX: int(1).default(1200),
  REFDATA_RATE_LIMIT_WINDOW_MS: int(1000).default(60_000),
  REFDATA_STREAMS_PER_KEY: int(1).max(10_000).default(20),
  REFDATA_REQUEST_TIMEOUT_MS: int(1000).default(300_000),
  REFDATA_TEMPORAL_PORT: int(1).max(65535).default(7233),
  REFDATA_TEMPORAL_UI_PORT: int(1).max(65535).default(8233),
  REFDATA_STABILITY_CHECKS: int(1).default(6),
  REFDATA_STABILITY_INTERVAL_MS: int(0).default(15000),
  REFDATA_STABILITY_MAX_WAIT_MS: int(0).default(6 * 60 * 60 * 1000),
  REFDATA_BATCH_ROWS: int(1).default(50000),
  REFDATA_PROGRESS_INTERVAL_MS: int(0).default(500),
  REFDATA_LOAD_STREAMS: int(1).max(16).optional(),
  REFDATA_ADMIN_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  REFDATA_OPEN_READS: z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1').default(false),
  REFDATA_TOOLS_DIR: z.string().optional(),
  REFDATA_INVALID_ROWS_FULLLOAD: z.enum(['reject-file', 'quarantine']).default('reject-file'),
  REFDATA_INVALID_ROWS_APPEND: z.enum(['reject-file', 'quarantine']).default('quarantine'),
  REFDATA_INVALID_ROWS_TABLES: z.string().transform(parseTablePolicies).optional(),
  REFDATA_MAX_ERROR_RATIO: z.coerce.number().min(0).max(1).default(0.01),
  REFDATA_BKP_RETENTION_DAYS: int(0).default(30),
  REFDATA_ARCHIVE_RETENTION_DAYS: int(0).default(30),
  REFDATA_RETENTION_LOADS_DAYS: int(0).default(365),
  REFDATA_RETENTION_INVALID_RECORDS_DAYS: int(0).default(90),
  REFDATA_RETENTION_TRACKING_DAYS: int(0).default(365),
  REFDATA_RETENTION_SYNC_RUNS_DAYS: int(0).default(365),
  REFDATA_RETENTION_DELIVERIES_DAYS: int(0).default(180),
  REFDATA_RETENTION_NOTIFICATIONS_DAYS: int(0).default(90),
  REFDATA_CONFIG_CHECK_CRON: z.string().regex(/^\S+(\s+\S+){4}$/, 'must be a five-field cron expression').default('45 2 * * *'),
  REFDATA_CONFIG_CHECK_REPAIR: z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1').default(true),
  REFDATA_CLEANUP_CRON: z.string().regex(/^\S+(\s+\S+){4}$/, 'must be a five-field cron expression').default('30 2 * * *'),
  REFDATA_WORKFLOW_BUNDLE: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  LOG_DIR: z.string().min(1).optional(),
  LOG_RETENTION_FILES: int(1).default(14),
  LOG_ROTATE_SIZE: z.string().regex(/^\d+[kmg]?$/i, 'must be a size such as 50m, 500k or 1g').default('50m'),
  LOG_ROTATE_FREQUENCY: z.enum(['daily', 'hourly']).default('daily'),
  REFDATA_WORKER_METRICS_PORT: int(0).max(65535).default(0),
  REFDATA_WORKFLOW_THREADS: int(1).max(16).default(1),
  REFDATA_HEAP_GROWTH_PERCENT: int(0).max(1000).default(30),
  REFDATA_ALERT_INTERVAL_MS: int(1000).default(60_000),
  REFDATA_ALERT_WINDOW_MINUTES: int(1).default(60),
  REFDATA_ALERT_FILE_ERROR_RATE: z.coerce.number().min(0).max(1).default(0.05),
  REFDATA_ALERT_MIN_FILES: int(1).default(5),
  REFDATA_ALERT_OUTBOX_LAG_SECONDS: int(1).default(300),
  REFDATA_ALERT_DELIVERY_DEADLINE_MINUTES: int(1).default(60),
  REFDATA_ALERT_CHANNEL: z.string().optional(),
  REFDATA_ALERT_SMTP_URL: z.string().optional(),
  REFDATA_ALERT_EMAIL_FROM: z.string().optional(),
  REFDATA_ALERT_MIN_SEVERITY: z.enum(['info', 'warning', 'critical']).default('warning'),
  REFDATA_ALERT_SYNC_DURATION_MINUTES: int(1).default(30),
  REFDATA_ALERT_SYNC_ERROR_RATE: z.coerce.number().min(0).max(1).default(0.05),
  REFDATA_ALERT_SYNC_STALE_HOURS: int(1).default(26),
  REFDATA_ALERT_INGEST_RATE_FACTOR: z.coerce.number().min(0).max(1).default(0.2),
  REFDATA_ALERT_DISK_FREE_MB: int(0).default(1024),
  REFDATA_ALERT_MEMORY_RSS_MB: int(0).default(4096),
  REFDATA_ALERT_TASK_QUEUES: z.string().transform(parseTaskQueues).default(() => Object.values(taskQueues)),
  INSTRUMENTS_URL: z.string().regex(/^https?:\/\/[^\s]+$/, 'must be an http:// or https:// URL').optional(),
  INSTRUMENTS_BEARER_TOKEN: z.string().min(1).optional(),
  INSTRUMENTS_HEADERS: z.string().transform(parseHeaders).optional(),
  INSTRUMENTS_DOWNLOAD_TIMEOUT_MS: int(1000).default(300_000),
  INSTRUMENTS_MAX_BYTES: int(1024).default(512 * 1024 * 1024),
  INSTRUMENTS_GUARD_MAX_DEACTIVATE_SHARE: z.coerce.number().min(0).max(1).default(0.2),
  INSTRUMENTS_MIN_EQUITIES: int(0).default(1000),
  INSTRUMENTS_REQUIRE_FNO: z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1').default(true),
  INSTRUMENTS_SYNC_CRON: z.string().regex(/^\S+(\s+\S+){4}$/, 'must be a five-field cron expression, e.g. "0 6 * * *"').default('0 6 * * *'),
  INSTRUMENTS_SYNC_TIMEZONE: z.string().refine(isTimeZone, 'must be an IANA time zone, e.g. Asia/Kolkata').default('Asia/Kolkata'),
  INSTRUMENTS_SYNC_LOCK_LIMIT_MINUTES: int(1).max(24 * 60).default(30),
  INSTRUMENTS_BATCH_SIZE: int(1).max(100_000).default(2000),
  INSTRUMENTS_REUSE_IDENTICAL_FILE: z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1').default(true),
  INSTRUMENTS_FILE_DIR: z.string().min(1).optional(),
  REFDATA_SECRETS_KEY: z.string().refine((v) => /^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === 32, 'must be base64 of 32 bytes, e.g. `openssl rand -base64 32`').optional(),
  REFDATA_ALLOW_PRIVATE_DESTINATIONS: z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1').default(false),
  REFDATA_REPORT_ROOTS: z.string().optional(),
  REFDATA_DELIVERY_RETRY: z.string().transform(parseRetryOverrides).optional(),
  REFDATA_STREAM_POLL_MS: int(50).default(1000),
  REFDATA_PUBLIC_URL: z.string().url().regex(/^https?:\/\//, 'must be an http:// or https:// URL').optional(),
  REFDATA_EMAIL_ATTACH_MAX_BYTES: int(0).default(10 * 1024 * 1024),
  REFDATA_DOWNLOAD_LINK_TTL_HOURS: int(1).max(24 * 365).default(168),
  REFDATA_CHANNEL_UNHEALTHY_AFTER: int(0).default(defaultChannelHealthSettings.unhealthyAfter),
  REFDATA_CHANNEL_PROBE_INITIAL_MS: int(100).default(defaultChannelHealthSettings.probeInitialMs),
  REFDATA_CHANNEL_PROBE_MAX_MS: int(100).default(defaultChannelHealthSettings.probeMaxMs),
  REFDATA_CHANNEL_UNHEALTHY_QUIET_MS: int(0).default(defaultChannelHealthSettings.quietMs ?? 0),
  KAFKA_BROKERS: z.string().transform(parseBrokers).optional(),
  KAFKA_CLIENT_ID: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be letters, digits, ".", "_" or "-"').default('refdata'),
  KAFKA_TOPIC_DELIVERED: kafkaTopic(true).default('reporting.{type}.delivered'),
  KAFKA_TOPIC_REPORTS_GENERATED: kafkaTopic(false).default('reporting.reports.generated'),
  KAFKA_CONSUMER_GROUP: z.string().min(1).default('refdata-reports'),
  REFDATA_OUTBOX_POLL_MS: int(10).max(60_000).default(250),
  REFDATA_OUTBOX_BATCH: int(1).max(1000).default(100),
  REFDATA_OUTBOX_RETENTION_DAYS: int(0).default(7),
  REFDATA_GRPC_PORT: int(0).max(65535).default(50051),
  REFDATA_DISTRIBUTION_DIR: z.string().min(1).optional(),
  REFDATA_DISTRIBUTION_BACKUP_DIR: z.string().min(1).optional(),
  REFDATA_DISTRIBUTION_BACKUP_RETENTION_DAYS: int(0).default(90),
  REFDATA_DISTRIBUTION_CRON: z.string().regex(/^\S+(\s+\S+){4}$/, 'must be a five-field cron expression, e.g. "0 1 * * *"').default('0 1 * * *'),
  REFDATA_DISTRIBUTION_TIMEZONE: z.string().refine(isTimeZone, 'must be an IANA time zone, e.g. Asia/Kolkata').default('Asia/Kolkata'),
  REFDATA_DISTRIBUTION_CATCHUP_HOURS: int(1).default(24),
  REFDATA_DISTRIBUTION_DATE_LAG_DAYS: int(0).max(7).default(1),
  REFDATA_INTRADAY_DELTAS: z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1').default(false),
  REFDATA_INTRADAY_DEBOUNCE_SECONDS: int(0).max(86_400).default(300),
});

/** A Kafka topic name ([A-Za-z0-9._-], ≤ 249); a template must contain `{type}`, replaced by the report type. */
function kafkaTopic(template: boolean) {
  const legal = z.string().regex(/^[A-Za-z0-9._{}-]{1,249}$/, 'must be a Kafka topic name: letters, digits, ".", "_", "-"');
  return template ? legal.refine((t) => t.includes('{type}'), 'must contain {type}, e.g. reporting.{type}.delivered') : legal.refine((t) => !/[{}]/.test(t), 'must not contain { or }');
}

/** REFDATA_ALERT_TASK_QUEUES: comma-separated names of our task queues; empty or `none` checks none. */
function parseTaskQueues(text: string, ctx: z.RefinementCtx): string[] {
  const names = text.trim().toLowerCase() === 'none' ? [] : text.split(',').map((q) => q.trim()).filter(Boolean);
  const known: string[] = Object.values(taskQueues);
  const unknown = names.filter((q) => !known.includes(q));
  if (unknown.length) {
    ctx.addIssue({ code: 'custom', message: `unknown task queue(s) ${unknown.join(', ')}; known: ${known.join(', ')}, or none` });
    return z.NEVER;
  }
  return names;
}

/** KAFKA_BROKERS: comma-separated host:port list. */
function parseBrokers(text: string, ctx: z.RefinementCtx): string[] {
  const brokers = text.split(',').map((b) => b.trim()).filter(Boolean);
  if (brokers.length === 0 || !brokers.every((b) => /^[^\s:/]+:\d{1,5}$/.test(b) || /^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(b))) {
    ctx.addIssue({ code: 'custom', message: 'must be a comma-separated list of host:port, e.g. kafka-1:9092,kafka-2:9092' });
    return z.NEVER;
  }
  return brokers;
}

/** REFDATA_INVALID_ROWS_TABLES: a JSON object of table name → policy. */
function parseTablePolicies(text: string, ctx: z.RefinementCtx): Record<string, 'reject-file' | 'quarantine'> {
  try {
    return z.record(z.string(), z.enum(['reject-file', 'quarantine'])).parse(JSON.parse(text));
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object of table → "reject-file" | "quarantine", e.g. {"trades":"quarantine"}' });
    return z.NEVER;
  }
}

/** INSTRUMENTS_HEADERS: a JSON object of header name → string value. */
function parseHeaders(text: string, ctx: z.RefinementCtx): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object, e.g. {"X-Api-Key":"…"}' });
    return z.NEVER;
  }
  const headers = z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/), z.string()).safeParse(parsed);
  if (!headers.success) {
    ctx.addIssue({ code: 'custom', message: 'must map header names to string values' });
    return z.NEVER;
  }
  return headers.data;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const settingDocs: SettingDoc[] = [
  { name: 'DATABASE_URL', default: '(unset: embedded PostgreSQL server in `<state dir>/pg`)', description: 'Database to use: `postgres://…` or `mssql://…` / `sqlserver://…`.' },
  { name: 'TEMPORAL_ADDRESS', default: '(unset: `npm start` runs a dev server; others use localhost:7233)', description: 'Temporal frontend `host:port`.' },
  { name: 'TEMPORAL_NAMESPACE', default: 'default', description: 'Temporal namespace for every workflow.' },
  { name: 'TEMPORAL_UI_URL', default: 'http://localhost:8233', description: 'Base URL of the Temporal Web UI, used for links.' },
  { name: 'TEMPORAL_CLI', default: '(temporal on PATH, else the ensure-tools build)', description: 'Path of the `temporal` binary used for the dev server.' },
  { name: 'REFDATA_STATE_DIR', default: './.refdata', description: 'Local state: dev-server database, embedded database, generated keys.' },
  { name: 'REFDATA_DROPOFF_DIR', default: './dropoff', description: 'Root of the drop-folder tree (created on start).' },
  { name: 'REFDATA_API_HOST', default: '127.0.0.1', description: 'Interface the API listens on (`0.0.0.0` in containers).' },
  { name: 'REFDATA_API_PORT', default: '3000', description: 'API port.' },
  { name: 'REFDATA_PLAN_MAX_BYTES', default: '52428800', description: 'Largest file `POST /api/v1/plan` accepts as an upload (bigger files: plan them by path inside the drop folder).' },
  { name: 'REFDATA_BODY_MAX_BYTES', default: '1048576', description: 'Largest request body any route but the two uploads accepts (JSON subscriptions, channel settings, sync requests); bigger answers 413. Only `POST /api/v1/plan` (`REFDATA_PLAN_MAX_BYTES`) and `POST /api/v1/files` (`REFDATA_UPLOAD_MAX_BYTES`) take more, and only from admin and operator keys, checked before the upload is read.' },
  { name: 'REFDATA_UPLOAD_MAX_BYTES', default: '1073741824', description: 'Largest file `POST /api/v1/files` accepts as an upload (multipart or raw body) to load; bigger answers 413 and nothing is kept. Only admin and operator keys may upload, checked before the upload is read. Larger files: put them in the drop folder, or send their `path` inside it.' },
  { name: 'REFDATA_RATE_LIMIT_MAX', default: '1200', description: 'Requests one API key (or, without a valid key, one client address) may make per window; more answer 429 with `Retry-After`. The default leaves room for the dashboard\'s refresh and scripted use.' },
  { name: 'REFDATA_RATE_LIMIT_WINDOW_MS', default: '60000', description: 'Length of the rate-limit window (`REFDATA_RATE_LIMIT_MAX`), in milliseconds.' },
  { name: 'REFDATA_STREAMS_PER_KEY', default: '20', description: 'Streams one API key may hold open at once, WebSocket (`/api/v1/events/stream`, `/api/v1/reporting/stream`) and gRPC `StreamReports` counted separately; one more is refused (WebSocket close code 4429, gRPC `RESOURCE_EXHAUSTED`) until one closes.' },
  { name: 'REFDATA_REQUEST_TIMEOUT_MS', default: '300000', description: 'Time a client has to send a whole request (headers and body, uploads included); a slower client is cut off (408) so it cannot hold a connection open. Raise it for very large uploads over slow links.' },
  { name: 'REFDATA_TEMPORAL_PORT', default: '7233', description: 'gRPC port of the dev server that `npm start` runs.' },
  { name: 'REFDATA_TEMPORAL_UI_PORT', default: '8233', description: 'Web UI port of the dev server that `npm start` runs.' },
  { name: 'REFDATA_STABILITY_CHECKS', default: '6', description: 'Consecutive unchanged checks (size and mtime) before a file is processed.' },
  { name: 'REFDATA_STABILITY_INTERVAL_MS', default: '15000', description: 'Time between two stability checks.' },
  { name: 'REFDATA_STABILITY_MAX_WAIT_MS', default: '21600000', description: 'A file still changing after this long goes to `error/`.' },
  { name: 'REFDATA_BATCH_ROWS', default: '50000', description: 'Rows per committed batch (one checkpoint each).' },
  { name: 'REFDATA_LOAD_STREAMS', default: '(unset: the worker\'s cores, at most 4)', description: 'Parallel COPY streams one UTF-8 file is loaded over on PostgreSQL (each a byte range of at least 16 MiB, with its own checkpoint); 1 loads in one stream. More streams than the database server has cores only add contention.' },
  { name: 'REFDATA_PROGRESS_INTERVAL_MS', default: '500', description: 'Least time between two progress updates a load sends its workflow (each costs a workflow task); heartbeats still follow every batch.' },
  { name: 'REFDATA_ADMIN_KEY', default: '(unset: `npm start` generates one and prints it)', description: 'Bootstrap admin API key, sent as `Authorization: Bearer …`.' },
  { name: 'REFDATA_OPEN_READS', default: 'false', description: 'Let GET routes that have no role of their own (files, loads, tables, errors, instruments, `/metrics`, `/docs`) answer without a key. Risk: anyone who reaches the port reads the firm\'s reference data, file names, load errors and the API document; subscriber, distribution, dashboard and event routes keep their keys either way. Only behind a network boundary you trust (docs/operations.md).' },
  { name: 'REFDATA_TOOLS_DIR', default: '~/.cache/refdata', description: 'Where `scripts/ensure-tools` caches the Temporal CLI and other tools.' },
  { name: 'REFDATA_INVALID_ROWS_FULLLOAD', default: 'reject-file', description: 'What a fullload does with an invalid row: `reject-file` (the whole file goes to `error/`) or `quarantine`.' },
  { name: 'REFDATA_INVALID_ROWS_APPEND', default: 'quarantine', description: 'The same for append: quarantined rows go to `ref.invalid_records`, the rest load.' },
  { name: 'REFDATA_INVALID_ROWS_TABLES', default: '(unset)', description: 'Per-table policy overriding the two above, as JSON: `{"trades":"reject-file"}`.' },
  { name: 'REFDATA_MAX_ERROR_RATIO', default: '0.01', description: 'Under `quarantine`, a file with a larger share of invalid rows is rejected whole.' },
  { name: 'REFDATA_BKP_RETENTION_DAYS', default: '30', description: 'Backups of replaced tables (`bkp.<table>__<timestamp>`) older than this are dropped by the cleanup schedule.' },
  { name: 'REFDATA_ARCHIVE_RETENTION_DAYS', default: '30', description: 'Files in `processed/` and `error/` older than this are removed by the cleanup schedule.' },
  { name: 'REFDATA_RETENTION_LOADS_DAYS', default: '365', description: 'Rows of `ref.loads` older than this are deleted by the cleanup schedule, except loads still loading, in effect (or back in effect after reverting the latest fullload) and the latest load of each table. 0 keeps all.' },
  { name: 'REFDATA_RETENTION_INVALID_RECORDS_DAYS', default: '90', description: 'Rows of `ref.invalid_records` older than this are deleted by the cleanup schedule, except the quarantined rows of a kept load and the invalid records of a running or the latest successful instrument sync. 0 keeps all.' },
  { name: 'REFDATA_RETENTION_TRACKING_DAYS', default: '365', description: 'Finished rows of `ref.file_monitor_tracking` older than this are deleted by the cleanup schedule, except rows of a file a kept load came from. 0 keeps all.' },
  { name: 'REFDATA_RETENTION_SYNC_RUNS_DAYS', default: '365', description: 'Finished rows of `ref.instrument_sync_runs` older than this are deleted by the cleanup schedule, except the latest successful sync. 0 keeps all.' },
  { name: 'REFDATA_RETENTION_DELIVERIES_DAYS', default: '180', description: 'Final rows of `dist.delivery_history` (delivered, failed, cancelled) older than this are deleted by the cleanup schedule, except deliveries whose files are still kept. 0 keeps all.' },
  { name: 'REFDATA_RETENTION_NOTIFICATIONS_DAYS', default: '90', description: 'Rows of `dist.notifications` (subscribers\' dashboard notifications) and `ref.operator_notifications` (operator notifications and alerts) older than this are deleted by the cleanup schedule. 0 keeps all.' },
  { name: 'REFDATA_CONFIG_CHECK_CRON', default: '45 2 * * *', description: 'When the reference-config check schedule validates `ref.reference_data_cfg` against the tables that exist (UTC); problems it leaves raise a notification.' },
  { name: 'REFDATA_CONFIG_CHECK_REPAIR', default: 'true', description: 'Whether the scheduled reference-config check also repairs what it finds (deactivate orphaned rows, insert missing ones, reactivate rows whose table is back), as `refdata config validate --repair` does.' },
  { name: 'REFDATA_CLEANUP_CRON', default: '30 2 * * *', description: 'When the cleanup schedule runs (UTC).' },
  { name: 'REFDATA_WORKFLOW_BUNDLE', default: '(unset: bundled at worker start)', description: 'A prebuilt workflow bundle (`refdata bundle --out FILE`), so a worker starts fast and small.' },
  { name: 'LOG_LEVEL', default: 'info', description: 'pino level: fatal, error, warn, info, debug, trace, silent.' },
  { name: 'LOG_FORMAT', default: 'auto', description: '`json`, `pretty`, or `auto` (pretty on a TTY, JSON otherwise).' },
  { name: 'LOG_DIR', default: '(unset: stdout only)', description: 'Also write JSON logs to rotating files here, one set per command (`refdata-dev.*.log`, `refdata-worker.*.log`, …).' },
  { name: 'LOG_RETENTION_FILES', default: '14', description: 'Rotated log files kept per command besides the active one; older ones are deleted.' },
  { name: 'LOG_ROTATE_SIZE', default: '50m', description: 'A log file is rotated when it reaches this size (`k`, `m`, `g`).' },
  { name: 'LOG_ROTATE_FREQUENCY', default: 'daily', description: 'A log file is also rotated at this interval: `daily` or `hourly`.' },
  { name: 'REFDATA_WORKFLOW_THREADS', default: '1', description: 'Threads that run workflow code in a worker process, shared by all the task queues it polls (each holds a V8 heap and the workflow bundle, ~25 MB). One keeps up with the work on 2 cores; more help only a worker on more cores that many deliveries keep busy (1–16).' },
  { name: 'REFDATA_WORKER_METRICS_PORT', default: '0 (off)', description: 'Port where `refdata worker` serves `/metrics` (refdata\'s and the Temporal SDK\'s) on `REFDATA_API_HOST`. Not needed with `refdata dev`: the API\'s `/metrics` has both.' },
  { name: 'REFDATA_HEAP_GROWTH_PERCENT', default: '30', description: 'How far the V8 heap of a refdata process (worker, API, CLI) may grow past its live data before a full collection (V8 alone allows up to 300 %); also keeps the young generation small. Lower: flatter RSS, more GC CPU. 0: V8\'s own sizing. Not a limit: the heap still grows to what is live.' },
  { name: 'REFDATA_ALERT_INTERVAL_MS', default: '60000', description: 'How often the API evaluates alert thresholds.' },
  { name: 'REFDATA_ALERT_WINDOW_MINUTES', default: '60', description: 'The file error rate is measured over files finished in this window.' },
  { name: 'REFDATA_ALERT_FILE_ERROR_RATE', default: '0.05', description: 'Alert when more than this share of the files finished in the window went to `error/`.' },
  { name: 'REFDATA_ALERT_MIN_FILES', default: '5', description: 'The error-rate alert needs at least this many finished files in the window.' },
  { name: 'REFDATA_ALERT_CHANNEL', default: '(unset: notifications are kept and shown, not sent)', description: 'Where operator notifications also go out: `slack:<incoming-webhook https URL>` or `email:<address>[,<address>…]` (then `REFDATA_ALERT_SMTP_URL` and `REFDATA_ALERT_EMAIL_FROM`). Checked at start; the destination may be on a private network (the operator sets it).' },
  { name: 'REFDATA_ALERT_SMTP_URL', default: '(unset)', description: 'SMTP server of `email:` alerts: `smtp://[user:pass@]host[:port]` (STARTTLS required, port 587), `smtps://…` (TLS, 465); `?security=none` for a relay without TLS.' },
  { name: 'REFDATA_ALERT_EMAIL_FROM', default: '(unset)', description: 'Sender address of `email:` alerts.' },
  { name: 'REFDATA_ALERT_MIN_SEVERITY', default: 'warning', description: 'Notifications at or above this severity (`info`, `warning`, `critical`) go out through `REFDATA_ALERT_CHANNEL`; all are kept in `ref.operator_notifications`.' },
  { name: 'REFDATA_ALERT_OUTBOX_LAG_SECONDS', default: '300', description: 'Alert when the oldest unpublished event in the outbox is older than this.' },
  { name: 'REFDATA_ALERT_SYNC_DURATION_MINUTES', default: '30', description: 'Alert when the latest instrument sync runs, or ran, longer than this.' },
  { name: 'REFDATA_ALERT_SYNC_ERROR_RATE', default: '0.05', description: 'Alert when more than this share of the last 20 finished instrument syncs did not succeed (needs at least 5).' },
  { name: 'REFDATA_ALERT_SYNC_STALE_HOURS', default: '26', description: 'Alert when the last successful instrument sync finished longer ago than this.' },
  { name: 'REFDATA_ALERT_INGEST_RATE_FACTOR', default: '0.2', description: 'Alert when the latest load\'s rows/s is below this share of the median of the 20 loads before it (needs at least 5).' },
  { name: 'REFDATA_ALERT_DISK_FREE_MB', default: '1024', description: 'Alert when the file system of the drop folder, of an archive folder (`processed/`, `error/`) or of the state folder has less free space than this (MiB; 0 = off). Shown in `/health`, `refdata doctor` and `refdata_disk_free_bytes`.' },
  { name: 'REFDATA_ALERT_MEMORY_RSS_MB', default: '4096', description: 'Alert when the API process (with `refdata dev`, the whole system) holds more resident memory than this (MiB; 0 = off).' },
  { name: 'REFDATA_ALERT_TASK_QUEUES', default: Object.values(taskQueues).join(','), description: 'Task queues that must have a live worker poller (Temporal DescribeTaskQueue); one without raises an alert. List only the queues your workers poll; `none` checks none.' },
  { name: 'REFDATA_ALERT_DELIVERY_DEADLINE_MINUTES', default: '60', description: 'Alert on a delivery still not delivered this long after it was requested (or past its channel\'s retry deadline, if sooner).' },
  { name: 'INSTRUMENTS_URL', default: '(unset: the daily sync schedule is created paused)', description: 'The broker\'s instrument master (Upstox JSON / NDJSON, Kite CSV; gzip or not). `refdata sync --file PATH` syncs from a local file instead.' },
  { name: 'INSTRUMENTS_BEARER_TOKEN', default: '(unset)', description: 'Sent as `Authorization: Bearer …`, only to the origin of `INSTRUMENTS_URL`.' },
  { name: 'INSTRUMENTS_HEADERS', default: '(unset)', description: 'Extra request headers as a JSON object, e.g. `{"Api-Version":"2.0"}`; only sent to the origin of `INSTRUMENTS_URL`.' },
  { name: 'INSTRUMENTS_DOWNLOAD_TIMEOUT_MS', default: '300000', description: 'A download taking longer is abandoned and retried by Temporal.' },
  { name: 'INSTRUMENTS_MAX_BYTES', default: '536870912', description: 'Largest instrument file accepted (bytes as sent; 16× this once decompressed).' },
  { name: 'INSTRUMENTS_GUARD_MAX_DEACTIVATE_SHARE', default: '0.2', description: 'A sync that would deactivate more than this share of active instruments stops unless forced.' },
  { name: 'INSTRUMENTS_MIN_EQUITIES', default: '1000', description: 'A file with fewer equities (`instrument_type` EQ) stops the sync unless forced.' },
  { name: 'INSTRUMENTS_REQUIRE_FNO', default: 'true', description: 'A file without equity F&O instruments (NSE_FO / BSE_FO) stops the sync unless forced.' },
  { name: 'INSTRUMENTS_SYNC_CRON', default: '0 6 * * *', description: 'When the daily instrument sync runs (cron, in `INSTRUMENTS_SYNC_TIMEZONE`).' },
  { name: 'INSTRUMENTS_SYNC_TIMEZONE', default: 'Asia/Kolkata', description: 'Time zone of `INSTRUMENTS_SYNC_CRON`.' },
  { name: 'INSTRUMENTS_SYNC_LOCK_LIMIT_MINUTES', default: '30', description: 'How long one sync may hold the one-sync lock (1–1440 minutes); past it the run is ended (work cancelled, staging dropped, run recorded `timed_out`, operators notified), so the next sync is not skipped.' },
  { name: 'INSTRUMENTS_BATCH_SIZE', default: '2000', description: 'Instruments per committed staging batch (one checkpoint each).' },
  { name: 'INSTRUMENTS_REUSE_IDENTICAL_FILE', default: 'true', description: 'A file byte for byte equal (SHA-256) to the last successful sync\'s, with no instrument changed since, is recorded as all unchanged without staging it again (PostgreSQL).' },
  { name: 'INSTRUMENTS_FILE_DIR', default: '<drop root>/instruments', description: 'The only folder a sync from a local file (`POST /api/v1/instruments/sync` `file`, `refdata sync --file`) may read; relative names are taken inside it, and `..`, other absolute paths and symlinks that lead out of it are refused (the worker checks the real path).' },
  { name: 'REFDATA_SECRETS_KEY', default: '(unset: `<state dir>/secrets-key`, generated on first start)', description: 'AES-256-GCM key (base64 of 32 bytes) sealing channel secrets in `dist.delivery_channels`; the same everywhere the API and workers run.' },
  { name: 'REFDATA_ALLOW_PRIVATE_DESTINATIONS', default: 'false', description: 'Let webhook, Slack, push and SFTP destinations, email channels\' SMTP servers, and instrument sync URLs (and their redirects), resolve to loopback/private/link-local/metadata addresses (tests, closed networks). Off, a URL passed to `POST /api/v1/instruments/sync` cannot make the worker fetch from inside the firm\'s network.' },
  { name: 'REFDATA_REPORT_ROOTS', default: '(state dir)/reports', description: 'Directories (separated by `:`) that `POST /api/v1/reporting/deliver` may name files in.' },
  { name: 'REFDATA_DELIVERY_RETRY', default: '(unset: per-channel defaults, see docs/reporting.md)', description: 'Retry policy overrides as JSON: channel type or `default` → `initialIntervalMs`, `backoffCoefficient`, `maximumIntervalMs`, `deadlineMs`, `attemptTimeoutMs`, `maximumAttempts`.' },
  { name: 'REFDATA_PUBLIC_URL', default: '(unset: no download links)', description: 'The API\'s address as email recipients reach it (e.g. `https://refdata.example.com`): files of an email delivery over its attachment limit are sent as signed, expiring links to `GET /api/v1/downloads/…` under it. Unset, such an email fails `TOO_LARGE`.' },
  { name: 'REFDATA_EMAIL_ATTACH_MAX_BYTES', default: '10485760 (10 MiB)', description: 'Email deliveries attach files up to this total; larger files (the largest first) go as download links (needs `REFDATA_PUBLIC_URL`). A channel\'s own `maxAttachmentBytes` can only lower it.' },
  { name: 'REFDATA_DOWNLOAD_LINK_TTL_HOURS', default: '168 (7 days)', description: 'How long a download link in an email works after the attempt that sent it; past it the API answers 410.' },
  { name: 'REFDATA_STREAM_POLL_MS', default: '1000', description: 'How often the reporting WebSocket stream reads `dist.delivery_history` for changes made by workers in other processes.' },
  { name: 'REFDATA_CHANNEL_UNHEALTHY_AFTER', default: '5', description: 'Delivery attempts in a row that fail against a channel\'s destination (down, 5xx, timeout) before the channel is marked unhealthy and paused: its deliveries wait instead of spending attempts, and it is probed until it answers (docs/channels.md). 0 never pauses.' },
  { name: 'REFDATA_CHANNEL_UNHEALTHY_QUIET_MS', default: '60000', description: 'A channel is paused only when, besides those failures in a row, it has delivered nothing for this long: a destination that fails some requests but delivers most is not paused.' },
  { name: 'REFDATA_CHANNEL_PROBE_INITIAL_MS', default: '30000', description: 'First probe of a paused channel this long after it was paused; each failed probe doubles the wait.' },
  { name: 'REFDATA_CHANNEL_PROBE_MAX_MS', default: '900000', description: 'Longest wait between two probes of a paused channel; also how often a waiting delivery re-checks its channel if no wake-up reaches it.' },
  { name: 'KAFKA_BROKERS', default: '(unset: the in-process event bus)', description: 'Kafka bootstrap brokers, `host:port,host:port`. Events go through the outbox either way (docs/events.md).' },
  { name: 'KAFKA_CLIENT_ID', default: 'refdata', description: 'Kafka client id of the relay\'s producer and the report consumer.' },
  { name: 'KAFKA_TOPIC_DELIVERED', default: 'reporting.{type}.delivered', description: 'Topic of `report_distributed` events; `{type}` becomes the report type, e.g. `reporting.performance.delivered`.' },
  { name: 'KAFKA_TOPIC_REPORTS_GENERATED', default: 'reporting.reports.generated', description: 'Topic of upstream report events that start deliveries.' },
  { name: 'KAFKA_CONSUMER_GROUP', default: 'refdata-reports', description: 'Consumer group of the `KAFKA_TOPIC_REPORTS_GENERATED` consumer.' },
  { name: 'REFDATA_OUTBOX_POLL_MS', default: '250', description: 'How often the event relay looks for unpublished events when idle (events published in-process wake it at once).' },
  { name: 'REFDATA_OUTBOX_BATCH', default: '100', description: 'Events the relay claims and publishes at a time.' },
  { name: 'REFDATA_OUTBOX_RETENTION_DAYS', default: '7', description: 'Published events older than this are deleted from `dist.outbox`.' },
  { name: 'REFDATA_GRPC_PORT', default: '50051', description: 'Port of the gRPC `ReportingStream` service (on `REFDATA_API_HOST`); 0 disables it.' },
  { name: 'REFDATA_DISTRIBUTION_DIR', default: '<state dir>/distribution', description: 'Where the nightly and intraday files are written, one folder per business date (`<dir>/YYYYMMDD/`); the workers and the API must see the same path.' },
  { name: 'REFDATA_DISTRIBUTION_BACKUP_DIR', default: '<state dir>/distribution-backup', description: 'Where every generated file is copied after its run (`<dir>/YYYYMMDD/`).' },
  { name: 'REFDATA_DISTRIBUTION_BACKUP_RETENTION_DAYS', default: '90', description: 'A distribution run\'s files and their backups are removed by the cleanup schedule this many days after its deliveries are all final; also the `retention_days` its deliveries carry. 0 keeps them all.' },
  { name: 'REFDATA_DISTRIBUTION_CRON', default: '0 1 * * *', description: 'When the nightly distribution runs (cron, in `REFDATA_DISTRIBUTION_TIMEZONE`).' },
  { name: 'REFDATA_DISTRIBUTION_TIMEZONE', default: 'Asia/Kolkata', description: 'Time zone of `REFDATA_DISTRIBUTION_CRON`, of business dates and of intraday suffixes.' },
  { name: 'REFDATA_DISTRIBUTION_CATCHUP_HOURS', default: '24', description: 'A nightly run missed while Temporal or the workers were down still runs if they return within this many hours.' },
  { name: 'REFDATA_DISTRIBUTION_DATE_LAG_DAYS', default: '1', description: 'The nightly run\'s business date is its scheduled local date minus this many days (01:00 sends the day that ended).' },
  { name: 'REFDATA_INTRADAY_DELTAS', default: 'false', description: 'An instrument sync that added, changed, deactivated or reactivated instruments, or a reference-data load that set invalid rows aside, requests an intraday delta (delta, cancellation and invalid files of what changed since the last watermark) and hands it to the subscribers, instead of waiting for the nightly run or an on-demand delta (docs/distribution.md). Read by the workers.' },
  { name: 'REFDATA_INTRADAY_DEBOUNCE_SECONDS', default: '300', description: 'Requests for an intraday delta within this many seconds of the first one collapse into one run, which covers every change since the last delta; 0 runs as soon as the request arrives.' },
];

export type DatabaseKind = 'postgres' | 'mssql' | 'embedded';

/** The instrument master sync: where the file comes from, how it is fetched, the guard and the schedule. */
export interface InstrumentsConfig {
  url?: string;
  bearerToken?: string;
  headers: Record<string, string>;
  downloadTimeoutMs: number;
  maxBytes: number;
  guard: { maxDeactivateShare: number; minEquities: number; requireFno: boolean };
  schedule: { cron: string; timeZone: string };
  /** How long one sync may hold the one-sync lock before it is ended (INSTRUMENTS_SYNC_LOCK_LIMIT_MINUTES). */
  lockLimitMs: number;
  batchSize: number;
  /** Skip staging a file identical to the last successful sync's (InstrumentStore.stageAsIdentical). */
  reuseIdenticalFile: boolean;
  /** The one folder a `file` source may come from (absolute). */
  fileDir: string;
  /** REFDATA_ALLOW_PRIVATE_DESTINATIONS: whether a URL source (or a redirect) may reach loopback/private/link-local addresses. */
  allowPrivateNetworks: boolean;
}

/** Events: Kafka when brokers are set (else the in-process bus), topic names, the outbox relay. */
export interface EventsConfig {
  kafka: { brokers: string[]; clientId: string } | null;
  topics: { deliveredTemplate: string; reportsGenerated: string };
  consumerGroup: string;
  outbox: { pollMs: number; batchSize: number; retentionDays: number };
}

/** Logging: level and format, and rotating files when `dir` is set. */
export interface LogConfig {
  level: string;
  format: 'auto' | 'json' | 'pretty';
  dir?: string;
  retentionFiles: number;
  rotateSize: string;
  rotateFrequency: 'daily' | 'hourly';
}

/** Alert thresholds evaluated by the API process (src/metrics/thresholds.ts). */
export interface AlertConfig {
  intervalMs: number;
  windowMinutes: number;
  fileErrorRate: number;
  minFiles: number;
  outboxLagSeconds: number;
  deliveryDeadlineMinutes: number;
  performance: PerformanceThresholds;
  /** REFDATA_ALERT_CHANNEL: where notifications also go out (src/notify/alert-channel.ts); null: nowhere. */
  outbound: OutboundAlertSettings | null;
  /** Disk, memory and task-queue pollers (src/metrics/host-health.ts); absent in an older config: not checked. */
  host?: HostThresholds;
}

export interface HostThresholds {
  /** Free space under this on a watched folder's file system raises an alert (0 = off). */
  diskFreeMinMb: number;
  /** Resident memory of the API process over this raises an alert (0 = off). */
  memoryRssMaxMb: number;
  /** Task queues that must have a live poller. */
  taskQueues: string[];
}

export interface Config {
  databaseUrl?: string;
  databaseKind: DatabaseKind;
  temporal: { address?: string; namespace: string; uiUrl: string; cli?: string; devPort: number; devUiPort: number };
  stateDir: string;
  dropoffDir: string;
  api: { host: string; port: number; adminKey?: string; planMaxBytes: number; uploadMaxBytes: number; bodyMaxBytes: number; openReads: boolean; rateLimit: { max: number; windowMs: number }; streamsPerKey: number; requestTimeoutMs: number };
  stability: { checks: number; intervalMs: number; maxWaitMs: number };
  batchRows: number;
  /** Parallel COPY streams per file (PostgreSQL, UTF-8). */
  loadStreams: number;
  progressIntervalMs: number;
  invalidRows: {
    fullload: 'reject-file' | 'quarantine';
    append: 'reject-file' | 'quarantine';
    tables: Record<string, 'reject-file' | 'quarantine'>;
    maxErrorRatio: number;
  };
  retention: { bkpDays: number; archiveDays: number; cleanupCron: string; records: RecordRetentionDays };
  /** The scheduled check (and repair) of ref.reference_data_cfg. */
  referenceConfigCheck: { cron: string; repair: boolean };
  workflowBundle?: string;
  toolsDir?: string;
  log: LogConfig;
  /** A worker's own /metrics endpoint (0 = none), on the API's interface. */
  metrics: { workerPort: number; workerHost: string };
  /** Workflow threads of a worker process, shared by its Workers (workers/shared-workflow-threads.ts). */
  workflowThreads: number;
  /** workers/heap-preload.cjs: V8 heap growth past live data, in percent (0 = V8's own sizing); read there before this module loads. */
  heapGrowthPercent: number;
  alerts: AlertConfig;
  instruments: InstrumentsConfig;
  events: EventsConfig;
  grpc: { port: number };
  reporting: ReportingConfig;
  distribution: DistributionConfig;
}

/** Report deliveries: secrets, destinations, where report files may come from, retry policies, the stream. */
export interface ReportingConfig {
  /** Base64 of 32 bytes; unset means the process finds or makes one (src/reporting/secrets-key.ts). */
  secretsKey?: string;
  allowPrivateDestinations: boolean;
  reportRoots: string[];
  retry: Record<ChannelType, DeliveryRetryPolicy>;
  streamPollMs: number;
  /** REFDATA_PUBLIC_URL: base of the signed download links email sends for files too large to attach; unset, no links. */
  publicUrl?: string;
  /** REFDATA_EMAIL_ATTACH_MAX_BYTES: the operator's cap on what an email attaches (a channel may set less). */
  emailAttachMaxBytes: number;
  /** REFDATA_DOWNLOAD_LINK_TTL_HOURS in ms. */
  downloadLinkTtlMs: number;
  /** When a failing channel is paused and how it is probed (src/reporting/channel-health.ts). */
  channelHealth: ChannelHealthSettings;
}

/** A configuration problem: names every invalid variable and why. */
export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export function databaseKindOf(url: string | undefined): DatabaseKind {
  if (!url) return 'embedded';
  return /^(mssql|sqlserver):/.test(url) ? 'mssql' : 'postgres';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset, as shells and compose files often export them that way.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const alertChannel = parseAlertChannel({ channel: e.REFDATA_ALERT_CHANNEL, smtpUrl: e.REFDATA_ALERT_SMTP_URL, from: e.REFDATA_ALERT_EMAIL_FROM, minSeverity: e.REFDATA_ALERT_MIN_SEVERITY });
  if (alertChannel.problems.length > 0) throw new ConfigError(alertChannel.problems);
  return {
    databaseUrl: e.DATABASE_URL,
    databaseKind: databaseKindOf(e.DATABASE_URL),
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      uiUrl: e.TEMPORAL_UI_URL ?? `http://localhost:${e.REFDATA_TEMPORAL_UI_PORT}`,
      cli: e.TEMPORAL_CLI,
      devPort: e.REFDATA_TEMPORAL_PORT,
      devUiPort: e.REFDATA_TEMPORAL_UI_PORT,
    },
    stateDir: path.resolve(e.REFDATA_STATE_DIR),
    dropoffDir: path.resolve(e.REFDATA_DROPOFF_DIR),
    api: { host: e.REFDATA_API_HOST, port: e.REFDATA_API_PORT, adminKey: e.REFDATA_ADMIN_KEY, planMaxBytes: e.REFDATA_PLAN_MAX_BYTES, uploadMaxBytes: e.REFDATA_UPLOAD_MAX_BYTES, bodyMaxBytes: e.REFDATA_BODY_MAX_BYTES, openReads: e.REFDATA_OPEN_READS, rateLimit: { max: e.REFDATA_RATE_LIMIT_MAX, windowMs: e.REFDATA_RATE_LIMIT_WINDOW_MS }, streamsPerKey: e.REFDATA_STREAMS_PER_KEY, requestTimeoutMs: e.REFDATA_REQUEST_TIMEOUT_MS },
    stability: {
      checks: e.REFDATA_STABILITY_CHECKS,
      intervalMs: e.REFDATA_STABILITY_INTERVAL_MS,
      maxWaitMs: e.REFDATA_STABILITY_MAX_WAIT_MS,
    },
    batchRows: e.REFDATA_BATCH_ROWS,
    loadStreams: e.REFDATA_LOAD_STREAMS ?? Math.min(4, os.availableParallelism()),
    progressIntervalMs: e.REFDATA_PROGRESS_INTERVAL_MS,
    invalidRows: {
      fullload: e.REFDATA_INVALID_ROWS_FULLLOAD,
      append: e.REFDATA_INVALID_ROWS_APPEND,
      tables: e.REFDATA_INVALID_ROWS_TABLES ?? {},
      maxErrorRatio: e.REFDATA_MAX_ERROR_RATIO,
    },
    referenceConfigCheck: { cron: e.REFDATA_CONFIG_CHECK_CRON, repair: e.REFDATA_CONFIG_CHECK_REPAIR },
    retention: {
      bkpDays: e.REFDATA_BKP_RETENTION_DAYS, archiveDays: e.REFDATA_ARCHIVE_RETENTION_DAYS, cleanupCron: e.REFDATA_CLEANUP_CRON,
      records: {
        loads: e.REFDATA_RETENTION_LOADS_DAYS, invalidRecords: e.REFDATA_RETENTION_INVALID_RECORDS_DAYS, tracking: e.REFDATA_RETENTION_TRACKING_DAYS,
        syncRuns: e.REFDATA_RETENTION_SYNC_RUNS_DAYS, deliveries: e.REFDATA_RETENTION_DELIVERIES_DAYS, notifications: e.REFDATA_RETENTION_NOTIFICATIONS_DAYS,
        operatorNotifications: e.REFDATA_RETENTION_NOTIFICATIONS_DAYS,
      },
    },
    workflowBundle: e.REFDATA_WORKFLOW_BUNDLE,
    toolsDir: e.REFDATA_TOOLS_DIR,
    log: {
      level: e.LOG_LEVEL,
      format: e.LOG_FORMAT,
      dir: e.LOG_DIR ? path.resolve(e.LOG_DIR) : undefined,
      retentionFiles: e.LOG_RETENTION_FILES,
      rotateSize: e.LOG_ROTATE_SIZE.toLowerCase(),
      rotateFrequency: e.LOG_ROTATE_FREQUENCY,
    },
    metrics: { workerPort: e.REFDATA_WORKER_METRICS_PORT, workerHost: e.REFDATA_API_HOST },
    workflowThreads: e.REFDATA_WORKFLOW_THREADS,
    heapGrowthPercent: e.REFDATA_HEAP_GROWTH_PERCENT,
    alerts: {
      intervalMs: e.REFDATA_ALERT_INTERVAL_MS,
      windowMinutes: e.REFDATA_ALERT_WINDOW_MINUTES,
      fileErrorRate: e.REFDATA_ALERT_FILE_ERROR_RATE,
      minFiles: e.REFDATA_ALERT_MIN_FILES,
      outboxLagSeconds: e.REFDATA_ALERT_OUTBOX_LAG_SECONDS,
      deliveryDeadlineMinutes: e.REFDATA_ALERT_DELIVERY_DEADLINE_MINUTES,
      performance: {
        syncDurationMinutes: e.REFDATA_ALERT_SYNC_DURATION_MINUTES, syncErrorRate: e.REFDATA_ALERT_SYNC_ERROR_RATE,
        syncStaleHours: e.REFDATA_ALERT_SYNC_STALE_HOURS, ingestRateFactor: e.REFDATA_ALERT_INGEST_RATE_FACTOR,
      },
      outbound: alertChannel.settings,
      host: { diskFreeMinMb: e.REFDATA_ALERT_DISK_FREE_MB, memoryRssMaxMb: e.REFDATA_ALERT_MEMORY_RSS_MB, taskQueues: e.REFDATA_ALERT_TASK_QUEUES },
    },
    instruments: {
      url: e.INSTRUMENTS_URL,
      bearerToken: e.INSTRUMENTS_BEARER_TOKEN,
      headers: e.INSTRUMENTS_HEADERS ?? {},
      downloadTimeoutMs: e.INSTRUMENTS_DOWNLOAD_TIMEOUT_MS,
      maxBytes: e.INSTRUMENTS_MAX_BYTES,
      guard: {
        maxDeactivateShare: e.INSTRUMENTS_GUARD_MAX_DEACTIVATE_SHARE,
        minEquities: e.INSTRUMENTS_MIN_EQUITIES,
        requireFno: e.INSTRUMENTS_REQUIRE_FNO,
      },
      schedule: { cron: e.INSTRUMENTS_SYNC_CRON, timeZone: e.INSTRUMENTS_SYNC_TIMEZONE },
      lockLimitMs: e.INSTRUMENTS_SYNC_LOCK_LIMIT_MINUTES * 60_000,
      batchSize: e.INSTRUMENTS_BATCH_SIZE,
      reuseIdenticalFile: e.INSTRUMENTS_REUSE_IDENTICAL_FILE,
      fileDir: path.resolve(e.INSTRUMENTS_FILE_DIR ?? path.join(e.REFDATA_DROPOFF_DIR, 'instruments')),
      allowPrivateNetworks: e.REFDATA_ALLOW_PRIVATE_DESTINATIONS,
    },
    events: {
      kafka: e.KAFKA_BROKERS ? { brokers: e.KAFKA_BROKERS, clientId: e.KAFKA_CLIENT_ID } : null,
      topics: { deliveredTemplate: e.KAFKA_TOPIC_DELIVERED, reportsGenerated: e.KAFKA_TOPIC_REPORTS_GENERATED },
      consumerGroup: e.KAFKA_CONSUMER_GROUP,
      outbox: { pollMs: e.REFDATA_OUTBOX_POLL_MS, batchSize: e.REFDATA_OUTBOX_BATCH, retentionDays: e.REFDATA_OUTBOX_RETENTION_DAYS },
    },
    grpc: { port: e.REFDATA_GRPC_PORT },
    distribution: {
      dir: path.resolve(e.REFDATA_DISTRIBUTION_DIR ?? path.join(e.REFDATA_STATE_DIR, 'distribution')),
      backupDir: path.resolve(e.REFDATA_DISTRIBUTION_BACKUP_DIR ?? path.join(e.REFDATA_STATE_DIR, 'distribution-backup')),
      backupRetentionDays: e.REFDATA_DISTRIBUTION_BACKUP_RETENTION_DAYS,
      schedule: { cron: e.REFDATA_DISTRIBUTION_CRON, timeZone: e.REFDATA_DISTRIBUTION_TIMEZONE, catchupWindowMs: e.REFDATA_DISTRIBUTION_CATCHUP_HOURS * 3600_000 },
      businessDateLagDays: e.REFDATA_DISTRIBUTION_DATE_LAG_DAYS,
      intraday: { enabled: e.REFDATA_INTRADAY_DELTAS, debounceMs: e.REFDATA_INTRADAY_DEBOUNCE_SECONDS * 1000 },
    },
    reporting: {
      secretsKey: e.REFDATA_SECRETS_KEY,
      allowPrivateDestinations: e.REFDATA_ALLOW_PRIVATE_DESTINATIONS,
      reportRoots: (e.REFDATA_REPORT_ROOTS ? e.REFDATA_REPORT_ROOTS.split(path.delimiter).filter(Boolean) : [path.join(e.REFDATA_STATE_DIR, 'reports')]).map((d) => path.resolve(d)),
      retry: resolveRetryPolicies(e.REFDATA_DELIVERY_RETRY),
      streamPollMs: e.REFDATA_STREAM_POLL_MS,
      publicUrl: e.REFDATA_PUBLIC_URL,
      emailAttachMaxBytes: e.REFDATA_EMAIL_ATTACH_MAX_BYTES,
      downloadLinkTtlMs: e.REFDATA_DOWNLOAD_LINK_TTL_HOURS * 3600_000,
      channelHealth: {
        unhealthyAfter: e.REFDATA_CHANNEL_UNHEALTHY_AFTER,
        probeInitialMs: e.REFDATA_CHANNEL_PROBE_INITIAL_MS,
        probeMaxMs: Math.max(e.REFDATA_CHANNEL_PROBE_MAX_MS, e.REFDATA_CHANNEL_PROBE_INITIAL_MS),
        quietMs: e.REFDATA_CHANNEL_UNHEALTHY_QUIET_MS,
      },
    },
  };
}

/** The README's configuration table, in Markdown. */
export function configTableMarkdown(): string {
  const rows = settingDocs.map((d) => `| \`${d.name}\` | ${d.default} | ${d.description} |`);
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/** Every variable the schema reads (tests check each is documented). */
export const configVariables: string[] = Object.keys(schema.shape);
