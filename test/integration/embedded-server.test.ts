// The embedded PostgreSQL that `npm start` runs without DATABASE_URL: it survives a SIGKILL of the server and of the
// refdata process that owned it with its data intact, is joined by a second process while its owner lives, refuses
// another major version's data directory, and gives two checkouts two ports.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { Client } from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db';
import { embeddedFiles, preferredPort, startEmbeddedPostgres, type EmbeddedServer } from '../../src/db/postgres/embedded-server';
import { openEmbeddedLikeDev, type EmbeddedForTest } from '../support/embedded';
import { makeTempDir, type TempDir } from '../support/temp';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function tempDir(): Promise<TempDir> {
  const t = await makeTempDir('refdata-embedded-test-');
  fs.chmodSync(t.path, 0o755); // as root the server runs as postgres, which must reach it
  cleanups.push(t.cleanup);
  return t;
}

async function sql<T>(url: string, text: string): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text)).rows as T[];
  } finally {
    await c.end();
  }
}

function postmasterPid(dataDir: string): number {
  return Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** Running, not merely unreaped: an orphaned server's parent is whatever adopted it, which may never reap it. */
function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const ROWS = `CREATE TABLE kept (id int PRIMARY KEY, name text NOT NULL);
  INSERT INTO kept SELECT g, 'name ' || g FROM generate_series(1, 500) g;`;

describe('embedded PostgreSQL server', () => {
  it('after a SIGKILL of the server, the next start (as refdata dev opens it) recovers and finds every row', async () => {
    const first: EmbeddedForTest = await openEmbeddedLikeDev();
    cleanups.push(first.removeStateDir);
    await sql(first.url, ROWS);
    const dataDir = path.join(first.stateDir, 'pg');
    const pid = postmasterPid(dataDir);
    process.kill(pid, 'SIGKILL');
    await until('the server to die', () => !isAlive(pid));
    await first.db.close(); // what Ctrl-C does afterwards: nothing left to stop, no error

    const config = { databaseKind: 'embedded' as const, databaseUrl: undefined, stateDir: first.stateDir };
    const again = await openDatabase(config);
    cleanups.push(() => again.close());
    expect(postmasterPid(dataDir)).not.toBe(pid);
    const rows = await sql<{ n: string; names: string }>(first.url, "SELECT count(*) AS n, string_agg(name, ',' ORDER BY id) FILTER (WHERE id IN (1, 500)) AS names FROM kept");
    expect(rows).toEqual([{ n: '500', names: 'name 1,name 500' }]);
    expect(fs.readFileSync(embeddedFiles(dataDir).log, 'utf8')).toMatch(/database system was interrupted|was not properly shut down/);
  });

  it('a second process joins a running server; after its owner is killed with -9 the next start takes the orphan over and keeps the rows', async () => {
    const t = await tempDir();
    const dataDir = path.join(t.path, 'pg');
    const script = `require('tsx/cjs'); require(${JSON.stringify(path.resolve(__dirname, '../../src/db/postgres/embedded-server.ts'))})
      .startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)} }).then((s) => { console.log(s.url); setInterval(() => undefined, 1000); });`;
    const child = spawn(process.execPath, ['-e', script], { cwd: path.resolve(__dirname, '../..'), stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(async () => child.kill('SIGKILL'));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => resolve(b.toString().trim()));
      child.once('exit', (code) => reject(new Error(`the child exited (${code}) before starting the server`)));
    });
    await sql(url, ROWS);
    const orphan = postmasterPid(dataDir);
    // While its owner lives, another process joins the server instead of starting one, and leaves it running.
    const joined = await startEmbeddedPostgres({ dataDir });
    expect(joined.owned).toBe(false);
    expect(joined.url).toBe(url);
    await joined.stop();
    expect(isAlive(orphan)).toBe(true);
    expect(await sql<{ n: string }>(url, 'SELECT count(*) AS n FROM kept')).toEqual([{ n: '500' }]);

    child.kill('SIGKILL');
    await until('the child to die', () => child.exitCode !== null || child.signalCode !== null);
    expect(isAlive(orphan)).toBe(true); // its own session: the owner's death does not take it down

    const server = await startEmbeddedPostgres({ dataDir });
    cleanups.push(() => server.stop());
    expect(server.owned).toBe(true);
    expect(isAlive(orphan)).toBe(false);
    const rows = await sql<{ n: string }>(server.url, 'SELECT count(*) AS n FROM kept');
    expect(rows).toEqual([{ n: '500' }]);
  });

  it('refuses a data directory of another major version and leaves it untouched', async () => {
    const t = await tempDir();
    const dataDir = path.join(t.path, 'pg');
    fs.mkdirSync(dataDir);
    fs.writeFileSync(path.join(dataDir, 'PG_VERSION'), '17\n');
    await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(/created by PostgreSQL 17, and this refdata ships PostgreSQL 18\.\d+.*pg_dump/);
    expect(fs.readdirSync(dataDir)).toEqual(['PG_VERSION']);
    expect(fs.existsSync(embeddedFiles(dataDir).owner)).toBe(false);
  });

  it('two data directories get two ports, and a taken port moves the server to another', async () => {
    const t = await tempDir();
    const a = path.join(t.path, 'one', 'pg');
    const b = path.join(t.path, 'two', 'pg');
    expect(preferredPort(a)).not.toBe(preferredPort(b));
    // Something else holds b's port: b starts elsewhere rather than failing.
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(preferredPort(b), '127.0.0.1', resolve));
    cleanups.push(() => new Promise((r) => squatter.close(r)));
    const servers: EmbeddedServer[] = [];
    for (const dir of [a, b]) {
      const s = await startEmbeddedPostgres({ dataDir: dir, ephemeral: true });
      cleanups.push(() => s.stop('immediate'));
      servers.push(s);
    }
    expect(servers[0]!.port).toBe(preferredPort(a));
    expect(servers[1]!.port).not.toBe(preferredPort(b));
    expect(servers[1]!.port).not.toBe(servers[0]!.port);
    for (const s of servers) expect(await sql<{ one: number }>(s.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });
});
