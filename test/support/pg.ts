// A private PostgreSQL database per test file, so suites can run in parallel and in any order.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { SqlValue } from '../../src/db/postgres/executor';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';

export interface TestDatabase {
  /** Connection URL of the new database (same server and credentials as the base URL). */
  url: string;
  name: string;
  /** Disconnects everyone still connected and drops the database; safe to call twice. */
  drop(): Promise<void>;
}

const INVALID_PARAMETER_VALUE = '22023';

async function withClient<T>(url: string, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** Creates `refdata_test_<random>` on the server of `baseUrl` (a role allowed to CREATE DATABASE). */
export async function createTestDatabase(baseUrl: string): Promise<TestDatabase> {
  const name = `refdata_test_${randomBytes(6).toString('hex')}`;
  await withClient(baseUrl, async (client) => {
    // template0: nobody connects to it, so parallel creates never fail with "source database is being accessed".
    // UTF8 regardless of the cluster's default, because the loaded files are UTF-8 after decoding.
    try {
      await client.query(`CREATE DATABASE "${name}" TEMPLATE template0 ENCODING 'UTF8'`);
    } catch (err) {
      if ((err as { code?: string }).code !== INVALID_PARAMETER_VALUE) throw err;
      // The cluster's locale cannot hold UTF8 (e.g. an ISO-8859 locale); the C locale always can.
      await client.query(`CREATE DATABASE "${name}" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`);
    }
  });
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;

  let dropped: Promise<void> | undefined;
  const drop = (): Promise<void> => {
    // WITH (FORCE) (PostgreSQL 13+) terminates leftover connections, e.g. a pool a failed test never closed.
    dropped ??= withClient(baseUrl, async (client) => {
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    });
    return dropped;
  };
  return { url: url.toString(), name, drop };
}

/** Rows of one statement ($1, $2, … parameters) on a test database, through a connection of its own. */
export async function queryRows<T extends Record<string, unknown> = Record<string, unknown>>(url: string, text: string, params: SqlValue[] = []): Promise<T[]> {
  const pg = createNodePgExecutor(url);
  try {
    return await pg.query<T>(text, params);
  } finally {
    await pg.close();
  }
}
