// A private PostgreSQL server for one test file (the embedded binaries in a temporary directory, its own port), so a
// test may stop or crash it without touching the shared test server that other files use in parallel.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../src/db/postgres/embedded-server';

export interface PrivatePostgres {
  /** postgres://refdata:…@127.0.0.1:<port>/refdata */
  url: string;
  port: number;
  /** Stops and starts it on the same port: `fast` is a clean shutdown, `immediate` a crash (recovery on start). */
  restart(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Stops the server, leaving the data in place: clients are refused until resume(). */
  halt(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port after halt() (crash recovery first if it was an immediate stop). */
  resume(): Promise<void>;
  /** Stops the server and removes its directory; safe to call twice. */
  stop(): Promise<void>;
}

/** Why a private server cannot start here (to skip with a reason), or null. The embedded binaries come with npm ci. */
export function privatePostgresUnavailable(): string | null {
  return null;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'refdata-private-pg-'));
  // As root the server runs as the postgres user, which must reach its data directory.
  await fs.chmod(dir, 0o755);
  const dataDir = path.join(dir, 'pg');
  // Crash tests stop this server in immediate mode: a commit must survive that as on a real server, so commits wait
  // for their WAL to reach the OS (fsync stays off: only an OS crash would need it).
  const settings = { max_connections: '50', synchronous_commit: 'on' };
  let server: EmbeddedServer | null = null;
  try {
    server = await startEmbeddedPostgres({ dataDir, ephemeral: true, settings });
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
  const { url, port } = server;
  return {
    url,
    port,
    async restart(mode = 'fast') {
      await server?.stop(mode);
      server = await startEmbeddedPostgres({ dataDir, ephemeral: true, settings, port });
    },
    async stop() {
      await server?.stop('immediate').catch(() => undefined);
      server = null;
      await fs.rm(dir, { recursive: true, force: true });
    },
    async halt(mode = 'fast') {
      await server?.stop(mode);
      server = null;
    },
    async resume() {
      server = await startEmbeddedPostgres({ dataDir, ephemeral: true, settings, port });
    },
  };
}
