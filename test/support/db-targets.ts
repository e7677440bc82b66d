// The databases every port suite runs against: PostgreSQL always (the embedded default is the same server), SQL Server when MSSQL_URL is set.
import { inject } from 'vitest';
import type { Database } from '../../src/db/types';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import { createTestDatabase } from './pg';

/** Statements SQL Server has and Babelfish 4.3 lacks (docs/deployment.md names each). */
export type EngineGap = 'alter-schema-transfer' | 'update-output-deleted';

const BABELFISH_GAPS: Record<EngineGap, string> = {
  'alter-schema-transfer': "Babelfish 4.3 refuses ALTER SCHEMA … TRANSFER ('ALTER SCHEMA' is not currently supported in Babelfish)",
  'update-output-deleted': 'Babelfish 4.3 fails UPDATE … OUTPUT deleted.* when SET reads its own columns (missing FROM-clause entry for table "deleted")',
};

/** True when MSSQL_URL is the Babelfish the test run started (test/support/babelfish.ts sets the marker). */
export const mssqlIsBabelfish = () => process.env.REFDATA_TEST_MSSQL_ENGINE === 'babelfish';

export interface DatabaseTarget {
  name: string;
  skip: boolean;
  /** Whether this target's engine lacks `feature` (a test that needs it then skips). */
  lacks(feature: EngineGap): boolean;
  open(): Promise<{ db: Database; cleanup(): Promise<void> }>;
}

/** `mssqlPrefix` names the SQL Server tables a suite creates, so its cleanup drops only its own. */
export function databaseTargets(mssqlPrefix: string): DatabaseTarget[] {
  return [
    {
      name: 'postgres',
      skip: false,
      lacks: () => false,
      async open() {
        const tdb = await createTestDatabase(inject('pgUrl'));
        const db = createPostgresDatabase(createNodePgExecutor(tdb.url), 'postgres');
        return { db, cleanup: async () => { await db.close(); await tdb.drop(); } };
      },
    },
    {
      name: 'mssql',
      skip: !process.env.MSSQL_URL,
      lacks(feature) {
        if (!mssqlIsBabelfish()) return false;
        process.stderr.write(`db-targets: skipping a SQL Server test on Babelfish: ${BABELFISH_GAPS[feature]}\n`);
        return true;
      },
      async open() {
        const { mssqlContractTarget } = await import('../../src/db/mssql');
        return mssqlContractTarget().open(mssqlPrefix);
      },
    },
  ];
}
