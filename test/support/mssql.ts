// A SQL Server database per test file (on Babelfish in the test run), so end-to-end suites can use their usual table
// names in parallel, as test/support/pg.ts does for PostgreSQL.
import { randomBytes } from 'node:crypto';
import sql from 'mssql';
import { parseMssqlUrl } from '../../src/db/mssql/url';
import type { TestDatabase } from './pg';

async function onServer(baseUrl: string, statement: string): Promise<void> {
  const pool = await new sql.ConnectionPool(parseMssqlUrl(baseUrl)).connect();
  try {
    await pool.request().batch(statement);
  } finally {
    await pool.close();
  }
}

/** Creates `refdata_test_<random>` on the server of `baseUrl` (a login allowed to CREATE DATABASE). */
export async function createMssqlTestDatabase(baseUrl: string): Promise<TestDatabase> {
  const name = `refdata_test_${randomBytes(6).toString('hex')}`;
  await onServer(baseUrl, `CREATE DATABASE [${name}]`);
  // Only the path changes: the scheme, credentials and options stay as given.
  const url = baseUrl.replace(/^([a-z]+:\/\/[^/]*)\/[^?]*/i, `$1/${name}`);
  let dropped = false;
  return {
    url,
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      await onServer(baseUrl, `DROP DATABASE IF EXISTS [${name}]`);
    },
  };
}
