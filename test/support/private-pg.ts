// A private PostgreSQL cluster for one test file (initdb in a temporary directory, its own port), so a test may
// stop or restart it without touching the shared test server that other files use in parallel.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { findFreePort } from '../../src/temporal/dev-server';

const run = promisify(execFile);
const ROLE = 'refdata_private';

export interface PrivatePostgres {
  /** postgres://refdata_private@127.0.0.1:<port>/refdata_private (trust authentication on 127.0.0.1). */
  url: string;
  port: number;
  /** pg_ctl restart: `fast` is a clean shutdown, `immediate` a crash (recovery on start). */
  restart(mode?: 'fast' | 'immediate'): Promise<void>;
  /** pg_ctl stop, leaving the data in place: clients are refused until resume(). */
  halt(mode?: 'fast' | 'immediate'): Promise<void>;
  /** pg_ctl start after halt() (crash recovery first if it was an immediate stop). */
  resume(): Promise<void>;
  /** Stops the cluster and removes its directory; safe to call twice. */
  stop(): Promise<void>;
}

/** The newest PostgreSQL server binaries installed the Debian way, or null. */
export function findPostgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  const versions = (existsSync(root) ? readdirSync(root) : []).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => path.join(root, v, 'bin')).find((bin) => existsSync(path.join(bin, 'initdb'))) ?? null;
}

/** Why a private cluster cannot start here (to skip with a reason), or null when it can. Synchronous: skipIf needs it at collection. */
export function privatePostgresUnavailable(): string | null {
  if (!findPostgresBin()) return 'no PostgreSQL server binaries under /usr/lib/postgresql/<version>/bin (scripts/ensure-tools installs them)';
  if (process.getuid?.() === 0) {
    // PostgreSQL refuses to run as root: as root we run it as the postgres user.
    try {
      execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    } catch {
      return 'running as root and there is no postgres user to run the cluster as';
    }
  }
  return null;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = findPostgresBin();
  if (!bin) throw new Error('no PostgreSQL server binaries found');
  const asRoot = process.getuid?.() === 0;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'refdata-private-pg-'));
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'server.log');
  if (asRoot) {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    await fs.chown(dir, uid, gid);
  }
  // As root: the same command as the postgres user (runuser), from a directory it may enter.
  const pg = (tool: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args], { cwd: '/' }) : run(path.join(bin, tool), args);
  const port = await findFreePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
  let started = false;
  const stop = async () => {
    if (started) await pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    started = false;
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    await pg('initdb', ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=trust', '-E', 'UTF8', '--locale=C']);
    await pg('pg_ctl', ['-D', data, '-o', options, '-l', log, '-w', '-t', '60', 'start']);
    started = true;
    const admin = new Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE ${ROLE} LOGIN CREATEDB`);
      await admin.query(`CREATE DATABASE ${ROLE} OWNER ${ROLE}`);
    } finally {
      await admin.end();
    }
  } catch (err) {
    const tail = await fs.readFile(log, 'utf8').then((t) => t.slice(-2000), () => '');
    await stop();
    throw new Error(`could not start a private PostgreSQL: ${(err as Error).message}${tail ? `\nserver log:\n${tail}` : ''}`);
  }
  return {
    url: `postgres://${ROLE}@127.0.0.1:${port}/${ROLE}`,
    port,
    async restart(mode = 'fast') {
      await pg('pg_ctl', ['-D', data, '-o', options, '-l', log, '-m', mode, '-w', '-t', '60', 'restart']);
    },
    async halt(mode = 'fast') {
      await pg('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
    },
    async resume() {
      await pg('pg_ctl', ['-D', data, '-o', options, '-l', log, '-w', '-t', '60', 'start']);
    },
    stop,
  };
}
