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

/** PGlite is one process's database: a second process opening the same files would corrupt them. */
function lockEmbedded(config: Config): () => void {
  const lock = path.join(config.stateDir, 'pgdata.lock');
  fs.mkdirSync(config.stateDir, { recursive: true });
  const holder = fs.existsSync(lock) ? Number(fs.readFileSync(lock, 'utf8').trim()) : NaN;
  if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
    throw new Error(
      `the embedded database in ${path.join(config.stateDir, 'pgdata')} is in use by another refdata process (pid ${holder}, e.g. npm start); use that process's API, stop it first, or set DATABASE_URL`,
    );
  }
  fs.writeFileSync(lock, String(process.pid));
  return () => fs.rmSync(lock, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function openDb(config: Config, log: Logger, migrate = true): Promise<Database> {
  const unlock = config.databaseKind === 'embedded' ? lockEmbedded(config) : () => undefined;
  let db: Database;
  try {
    db = await openDatabase(config);
  } catch (err) {
    unlock();
    throw err;
  }
  const close = db.close.bind(db);
  db.close = async () => {
    try {
      await close();
    } finally {
      unlock();
    }
  };
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
