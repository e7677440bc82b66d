// Opens the database the configuration names: PostgreSQL, SQL Server, or the embedded PostgreSQL server default.
import path from 'node:path';
import type { Config } from '../config';
import type { Database } from './types';
import { createPostgresDatabase } from './postgres';
import { createNodePgExecutor } from './postgres/node-pg';
import { startEmbeddedPostgres } from './postgres/embedded-server';

/** Where the embedded server keeps its data directory (its password, log and owner files sit beside it). */
export function embeddedDataDir(config: Pick<Config, 'stateDir'>): string {
  return path.join(config.stateDir, 'pg');
}

export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'databaseKind' | 'stateDir'>): Promise<Database> {
  switch (config.databaseKind) {
    case 'postgres':
      return createPostgresDatabase(createNodePgExecutor(config.databaseUrl!), 'postgres');
    case 'mssql': {
      const { createMssqlDatabase } = await import('./mssql');
      return createMssqlDatabase(config.databaseUrl!);
    }
    case 'embedded': {
      const server = await startEmbeddedPostgres({ dataDir: embeddedDataDir(config) });
      const db = createPostgresDatabase(createNodePgExecutor(server.url), 'embedded');
      const close = db.close.bind(db);
      // The server outlives the pool by a moment: connections close first, then a clean shutdown.
      db.close = async () => {
        try {
          await close();
        } finally {
          await server.stop();
        }
      };
      return db;
    }
  }
}

export type { Database } from './types';
