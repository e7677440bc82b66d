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
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
});

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
  { name: 'LOG_LEVEL', default: 'info', description: 'pino level: fatal, error, warn, info, debug, trace, silent.' },
  { name: 'LOG_FORMAT', default: 'auto', description: '`json`, `pretty`, or `auto` (pretty on a TTY, JSON otherwise).' },
];

export type DatabaseKind = 'postgres' | 'mssql' | 'embedded';

export interface Config {
  databaseUrl?: string;
  databaseKind: DatabaseKind;
  temporal: { address?: string; namespace: string; uiUrl: string; cli?: string; devPort: number; devUiPort: number };
  stateDir: string;
  dropoffDir: string;
  api: { host: string; port: number; adminKey?: string };
  stability: { checks: number; intervalMs: number; maxWaitMs: number };
  batchRows: number;
  toolsDir?: string;
  log: { level: string; format: 'auto' | 'json' | 'pretty' };
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
    toolsDir: e.REFDATA_TOOLS_DIR,
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT },
  };
}

/** The README's configuration table, in Markdown. */
export function configTableMarkdown(): string {
  const rows = settingDocs.map((d) => `| \`${d.name}\` | ${d.default} | ${d.description} |`);
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/** Every variable the schema reads (tests check each is documented). */
export const configVariables: string[] = Object.keys(schema.shape);
