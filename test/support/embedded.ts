// The embedded database as `refdata dev` opens it (openDatabase without DATABASE_URL), under a temporary state dir.
import { chmod, readFile } from 'node:fs/promises';
import { openDatabase, embeddedDataDir } from '../../src/db';
import { embeddedFiles, embeddedStatus } from '../../src/db/postgres/embedded-server';
import type { Database } from '../../src/db/types';
import { makeTempDir } from './temp';

export interface EmbeddedForTest {
  stateDir: string;
  db: Database;
  /** The server's URL with its password, for asserting with plain SQL. */
  url: string;
  /** Removes the state dir (after db.close(), which stops the server). */
  removeStateDir(): Promise<void>;
  /** db.close() then removeStateDir(). */
  cleanup(): Promise<void>;
}

export async function openEmbeddedLikeDev(): Promise<EmbeddedForTest> {
  const temp = await makeTempDir('refdata-embedded-');
  // As root the server runs as the postgres user, which must reach the data directory.
  await chmod(temp.path, 0o755);
  const config = { databaseKind: 'embedded' as const, databaseUrl: undefined, stateDir: temp.path };
  const db = await openDatabase(config);
  const status = embeddedStatus(embeddedDataDir(config));
  const password = (await readFile(embeddedFiles(status.dataDir).password, 'utf8')).trim();
  return {
    stateDir: temp.path,
    db,
    url: status.displayUrl!.replace('postgres://refdata@', `postgres://refdata:${password}@`),
    removeStateDir: temp.cleanup,
    async cleanup() {
      await db.close();
      await temp.cleanup();
    },
  };
}
