// Every environment variable refdata reads: parsed, validated and documented in one place.
import path from 'node:path';
import { z } from 'zod';

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
  REFDATA_TEMPORAL_PORT: int(1).max(65535).default(7233),
  REFDATA_TEMPORAL_UI_PORT: int(1).max(65535).default(8233),
  REFDATA_STABILITY_CHECKS: int(1).default(6),
  REFDATA_STABILITY_INTERVAL_MS: int(0).default(15000),
  REFDATA_STABILITY_MAX_WAIT_MS: int(0).default(6 * 60 * 60 * 1000),
  REFDATA_BATCH_ROWS: int(1).default(50000),
  REFDATA_ADMIN_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  REFDATA_TOOLS_DIR: z.string().optional(),
  REFDATA_INVALID_ROWS_FULLLOAD: z.enum(['reject-file', 'quarantine']).default('reject-file'),
  REFDATA_INVALID_ROWS_APPEND: z.enum(['reject-file', 'quarantine']).default('quarantine'),
  REFDATA_INVALID_ROWS_TABLES: z.string().transform(parseTablePolicies).optional(),
  REFDATA_MAX_ERROR_RATIO: z.coerce.number().min(0).max(1).default(0.01),
  REFDATA_BKP_RETENTION_DAYS: int(0).default(30),
  REFDATA_ARCHIVE_RETENTION_DAYS: int(0).default(30),
  REFDATA_CLEANUP_CRON: z.string().regex(/^\S+(\s+\S+){4}$/, 'must be a five-field cron expression').default('30 2 * * *'),
  REFDATA_WORKFLOW_BUNDLE: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
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
  INSTRUMENTS_BATCH_SIZE: int(1).max(100_000).default(5000),
});

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
  { name: 'DATABASE_URL', default: '(unset: embedded PGlite under the state dir)', description: 'Database to use: `postgres://…` or `mssql://…` / `sqlserver://…`.' },
  { name: 'TEMPORAL_ADDRESS', default: '(unset: `npm start` runs a dev server; others use localhost:7233)', description: 'Temporal frontend `host:port`.' },
  { name: 'TEMPORAL_NAMESPACE', default: 'default', description: 'Temporal namespace for every workflow.' },
  { name: 'TEMPORAL_UI_URL', default: 'http://localhost:8233', description: 'Base URL of the Temporal Web UI, used for links.' },
  { name: 'TEMPORAL_CLI', default: '(temporal on PATH, else the ensure-tools build)', description: 'Path of the `temporal` binary used for the dev server.' },
  { name: 'REFDATA_STATE_DIR', default: './.refdata', description: 'Local state: dev-server database, embedded database, generated keys.' },
  { name: 'REFDATA_DROPOFF_DIR', default: './dropoff', description: 'Root of the drop-folder tree (created on start).' },
  { name: 'REFDATA_API_HOST', default: '127.0.0.1', description: 'Interface the API listens on (`0.0.0.0` in containers).' },
  { name: 'REFDATA_API_PORT', default: '3000', description: 'API port.' },
  { name: 'REFDATA_TEMPORAL_PORT', default: '7233', description: 'gRPC port of the dev server that `npm start` runs.' },
  { name: 'REFDATA_TEMPORAL_UI_PORT', default: '8233', description: 'Web UI port of the dev server that `npm start` runs.' },
  { name: 'REFDATA_STABILITY_CHECKS', default: '6', description: 'Consecutive unchanged checks (size and mtime) before a file is processed.' },
  { name: 'REFDATA_STABILITY_INTERVAL_MS', default: '15000', description: 'Time between two stability checks.' },
  { name: 'REFDATA_STABILITY_MAX_WAIT_MS', default: '21600000', description: 'A file still changing after this long goes to `error/`.' },
  { name: 'REFDATA_BATCH_ROWS', default: '50000', description: 'Rows per committed batch (one checkpoint each).' },
  { name: 'REFDATA_ADMIN_KEY', default: '(unset: `npm start` generates one and prints it)', description: 'Bootstrap admin API key, sent as `Authorization: Bearer …`.' },
  { name: 'REFDATA_TOOLS_DIR', default: '~/.cache/refdata', description: 'Where `scripts/ensure-tools` caches the Temporal CLI and other tools.' },
  { name: 'REFDATA_INVALID_ROWS_FULLLOAD', default: 'reject-file', description: 'What a fullload does with an invalid row: `reject-file` (the whole file goes to `error/`) or `quarantine`.' },
  { name: 'REFDATA_INVALID_ROWS_APPEND', default: 'quarantine', description: 'The same for append: quarantined rows go to `ref.invalid_records`, the rest load.' },
  { name: 'REFDATA_INVALID_ROWS_TABLES', default: '(unset)', description: 'Per-table policy overriding the two above, as JSON: `{"trades":"reject-file"}`.' },
  { name: 'REFDATA_MAX_ERROR_RATIO', default: '0.01', description: 'Under `quarantine`, a file with a larger share of invalid rows is rejected whole.' },
  { name: 'REFDATA_BKP_RETENTION_DAYS', default: '30', description: 'Backups of replaced tables (`bkp.<table>__<timestamp>`) older than this are dropped by the cleanup schedule.' },
  { name: 'REFDATA_ARCHIVE_RETENTION_DAYS', default: '30', description: 'Files in `processed/` and `error/` older than this are removed by the cleanup schedule.' },
  { name: 'REFDATA_CLEANUP_CRON', default: '30 2 * * *', description: 'When the cleanup schedule runs (UTC).' },
  { name: 'REFDATA_WORKFLOW_BUNDLE', default: '(unset: bundled at worker start)', description: 'A prebuilt workflow bundle (`refdata bundle --out FILE`), so a worker starts fast and small.' },
  { name: 'LOG_LEVEL', default: 'info', description: 'pino level: fatal, error, warn, info, debug, trace, silent.' },
  { name: 'LOG_FORMAT', default: 'auto', description: '`json`, `pretty`, or `auto` (pretty on a TTY, JSON otherwise).' },
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
  { name: 'INSTRUMENTS_BATCH_SIZE', default: '5000', description: 'Instruments per committed staging batch (one checkpoint each).' },
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
  batchSize: number;
}

export interface Config {
  databaseUrl?: string;
  databaseKind: DatabaseKind;
  temporal: { address?: string; namespace: string; uiUrl: string; cli?: string; devPort: number; devUiPort: number };
  stateDir: string;
  dropoffDir: string;
  api: { host: string; port: number; adminKey?: string };
  stability: { checks: number; intervalMs: number; maxWaitMs: number };
  batchRows: number;
  invalidRows: {
    fullload: 'reject-file' | 'quarantine';
    append: 'reject-file' | 'quarantine';
    tables: Record<string, 'reject-file' | 'quarantine'>;
    maxErrorRatio: number;
  };
  retention: { bkpDays: number; archiveDays: number; cleanupCron: string };
  workflowBundle?: string;
  toolsDir?: string;
  log: { level: string; format: 'auto' | 'json' | 'pretty' };
  instruments: InstrumentsConfig;
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
    api: { host: e.REFDATA_API_HOST, port: e.REFDATA_API_PORT, adminKey: e.REFDATA_ADMIN_KEY },
    stability: {
      checks: e.REFDATA_STABILITY_CHECKS,
      intervalMs: e.REFDATA_STABILITY_INTERVAL_MS,
      maxWaitMs: e.REFDATA_STABILITY_MAX_WAIT_MS,
    },
    batchRows: e.REFDATA_BATCH_ROWS,
    invalidRows: {
      fullload: e.REFDATA_INVALID_ROWS_FULLLOAD,
      append: e.REFDATA_INVALID_ROWS_APPEND,
      tables: e.REFDATA_INVALID_ROWS_TABLES ?? {},
      maxErrorRatio: e.REFDATA_MAX_ERROR_RATIO,
    },
    retention: { bkpDays: e.REFDATA_BKP_RETENTION_DAYS, archiveDays: e.REFDATA_ARCHIVE_RETENTION_DAYS, cleanupCron: e.REFDATA_CLEANUP_CRON },
    workflowBundle: e.REFDATA_WORKFLOW_BUNDLE,
    toolsDir: e.REFDATA_TOOLS_DIR,
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT },
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
      batchSize: e.INSTRUMENTS_BATCH_SIZE,
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
