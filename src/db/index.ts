// Opens the database the configuration names: PostgreSQL, SQL Server, or the embedded PGlite default.
import path from 'node:path';
import type { Config } from '../config';
import type { Database } from './types';
import { createPostgresDatabase } from './postgres';
import { createNodePgExecutor } from './postgres/node-pg';
import { createPgliteExecutor } from './postgres/pglite';

export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'databaseKind' | 'stateDir'>): Promise<Database> {
  switch (config.databaseKind) {
    case 'postgres':
      return createPostgresDatabase(createNodePgExecutor(config.databaseUrl!), 'postgres');
    case 'mssql': {
      const { createMssqlDatabase } = await import('./mssql');
      return createMssqlDatabase(config.databaseUrl!);
    }
    case 'embedded':
      return createPostgresDatabase(await createPgliteExecutor(path.join(config.stateDir, 'pgdata')), 'embedded');
  }
}

export type { Database } from './types';
