// Opening the shared services a process needs (config, logger, database, Temporal client), and closing them.
import fs from 'node:fs';
import path from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import { loadConfig, type Config } from './config';
import { createLogger, type Logger } from './log/logger';
import { openDatabase } from './db';
import type { Database } from './db/types';
import { connectTemporal } from './temporal/client';
import { generateKey } from './api/auth';

export function temporalAddressOf(config: Config): string {
  return config.temporal.address ?? `127.0.0.1:${config.temporal.devPort}`;
}

export function baseServices(): { config: Config; log: Logger } {
  const config = loadConfig();
  return { config, log: createLogger(config.log) };
}

export async function openDb(config: Config, log: Logger, migrate = true): Promise<Database> {
  // The embedded server is started here when no other refdata process runs it, and joined when one does.
  const db = await openDatabase(config);
  if (migrate) {
    const applied = await db.migrate();
    log.debug({ migrations: applied.length }, 'database migrated');
  }
  return db;
}

export async function openTemporal(config: Config): Promise<{ connection: Connection; client: Client; address: string }> {
  const address = temporalAddressOf(config);
  const { connection, client } = await connectTemporal(address, config.temporal.namespace);
  return { connection, client, address };
}

/** The admin key: from config, else the one generated earlier under the state dir, else a new one kept there. */
export function ensureAdminKey(config: Config): { key: string; generated: boolean } {
  if (config.api.adminKey) return { key: config.api.adminKey, generated: false };
  const file = path.join(config.stateDir, 'admin-key');
  if (fs.existsSync(file)) return { key: fs.readFileSync(file, 'utf8').trim(), generated: false };
  fs.mkdirSync(config.stateDir, { recursive: true });
  const key = generateKey();
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { key, generated: true };
}
