// The databases every port suite runs against: PostgreSQL always (the embedded default is the same server), SQL Server when MSSQL_URL is set.
import { inject } from 'vitest';
import type { Database } from '../../src/db/types';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import { createTestDatabase } from './pg';

export interface DatabaseTarget {
  name: string;
  skip: boolean;
  open(): Promise<{ db: Database; cleanup(): Promise<void> }>;
}

/** `mssqlPrefix` names the SQL Server tables a suite creates, so its cleanup drops only its own. */
export function databaseTargets(mssqlPrefix: string): DatabaseTarget[] {
  return [
    {
      name: 'postgres',
      skip: false,
      async open() {
        const tdb = await createTestDatabase(inject('pgUrl'));
        const db = createPostgresDatabase(createNodePgExecutor(tdb.url), 'postgres');
        return { db, cleanup: async () => { await db.close(); await tdb.drop(); } };
      },
    },
    {
      name: 'mssql',
      skip: !process.env.MSSQL_URL,
      async open() {
        const { mssqlContractTarget } = await import('../../src/db/mssql');
        return mssqlContractTarget().open(mssqlPrefix);
      },
    },
  ];
}
