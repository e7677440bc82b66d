// Reads `mssql://user:pass@host:port/db?encrypt=true&trustServerCertificate=true` (or `sqlserver://`) into an mssql config.
import type { config as MssqlConfig } from 'mssql';

const BOOLEAN_OPTIONS = ['encrypt', 'trustServerCertificate'] as const;
const NUMBER_OPTIONS = ['connectionTimeout', 'requestTimeout', 'poolMax'] as const;
const STRING_OPTIONS = ['instanceName', 'applicationName'] as const;
const KNOWN = new Set<string>([...BOOLEAN_OPTIONS, ...NUMBER_OPTIONS, ...STRING_OPTIONS]);

/**
 * A bulk batch of 50,000 rows or the delete of a large append can outlast mssql's 15 s default; a stuck
 * statement is still bounded, and the activity's heartbeat timeout catches the rest.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10 * 60 * 1000;

function parseBoolean(name: string, value: string): boolean {
  const v = value.toLowerCase();
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  throw new Error(`SQL Server URL option ${name} must be true or false, got '${value}'`);
}

function parseNumber(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`SQL Server URL option ${name} must be a non-negative integer, got '${value}'`);
  return n;
}

/** Throws on anything it does not understand, never echoing the password. */
export function parseMssqlUrl(url: string): MssqlConfig {
  const match = /^(mssql|sqlserver):\/\//i.exec(url);
  if (!match) throw new Error('SQL Server URL must start with mssql:// or sqlserver://');
  let parsed: URL;
  try {
    // WHATWG URL parses any scheme; normalising it keeps host/port handling identical for both spellings.
    parsed = new URL(`mssql://${url.slice(match[0].length)}`);
  } catch {
    throw new Error('SQL Server URL is not a valid URL (user:password@host:port/database?options)');
  }
  if (!parsed.hostname) throw new Error('SQL Server URL has no host');
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (database.includes('/')) throw new Error('SQL Server URL path must be just the database name');

  const options: Record<string, string> = {};
  for (const [key, value] of parsed.searchParams) {
    if (!KNOWN.has(key)) throw new Error(`SQL Server URL option ${key} is not supported (known: ${[...KNOWN].join(', ')})`);
    options[key] = value;
  }
  const instanceName = options.instanceName;
  const config: MssqlConfig = {
    server: parsed.hostname.replace(/^\[|\]$/g, ''),
    // A named instance is found through the browser service, so a port would contradict it.
    port: parsed.port ? Number(parsed.port) : instanceName ? undefined : 1433,
    user: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    database: database || undefined,
    requestTimeout: options.requestTimeout !== undefined ? parseNumber('requestTimeout', options.requestTimeout) : DEFAULT_REQUEST_TIMEOUT_MS,
    options: {
      encrypt: options.encrypt !== undefined ? parseBoolean('encrypt', options.encrypt) : true,
      trustServerCertificate:
        options.trustServerCertificate !== undefined ? parseBoolean('trustServerCertificate', options.trustServerCertificate) : false,
      // Dates go over the wire as UTC, which is how every datetime2 of ours is stored.
      useUTC: true,
      ...(instanceName ? { instanceName } : {}),
      ...(options.applicationName ? { appName: options.applicationName } : { appName: 'refdata' }),
    },
  };
  if (options.connectionTimeout !== undefined) config.connectionTimeout = parseNumber('connectionTimeout', options.connectionTimeout);
  if (options.poolMax !== undefined) config.pool = { max: parseNumber('poolMax', options.poolMax) };
  return config;
}
