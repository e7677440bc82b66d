// The run's PostgreSQL for vitest's global setup: REFDATA_TEST_PG_URL when set (an existing server), else one embedded
// server from npm's binaries in a temporary directory, started once for the run and removed after it.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/db/postgres/embedded-server';

export interface TestPostgres {
  /** A superuser URL on the `postgres` database: tests create a database each (test/support/pg.ts). */
  url: string;
  /** Where it came from, for error messages. */
  source: 'REFDATA_TEST_PG_URL' | 'embedded';
  stop(): Promise<void>;
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const given = process.env.REFDATA_TEST_PG_URL;
  if (given) return { url: given, source: 'REFDATA_TEST_PG_URL', stop: async () => undefined };
  const dir = await mkdtemp(join(tmpdir(), 'refdata-test-pg-'));
  // As root the server runs as the postgres user, which must reach its data directory.
  await chmod(dir, 0o755);
  try {
    // Test files run in parallel, each with its own database and pools.
    const server = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), ephemeral: true, settings: { max_connections: '300' } });
    const url = new URL(server.url);
    url.pathname = '/postgres';
    return {
      url: url.toString(),
      source: 'embedded',
      async stop() {
        try {
          await server.stop('immediate');
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
