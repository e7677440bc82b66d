// Shared bench plumbing: test PostgreSQL URL, a private database, a dev server, RSS sampling, timing.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { readToolsEnv, resolveTemporalCli } from '../../src/temporal/cli-path';
import { findFreePort, startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { devServerSearchAttributeArgs } from '../../src/ids';
import { startEmbeddedPostgres } from '../../src/db/postgres/embedded-server';

/** REFDATA_TEST_PG_URL (an external server), else an embedded server as `npm start` runs it (durable settings). */
async function basePgUrl(): Promise<{ url: string; stop(): Promise<void> }> {
  const url = process.env.REFDATA_TEST_PG_URL || readToolsEnv().REFDATA_TEST_PG_URL;
  if (url) return { url, stop: async () => undefined };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'refdata-bench-pg-'));
  fs.chmodSync(dir, 0o755); // as root the server runs as postgres, which must reach it
  const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg') });
  const u = new URL(server.url);
  u.pathname = '/postgres';
  return {
    url: u.toString(),
    async stop() {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function createBenchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const server = await basePgUrl();
  const base = server.url;
  const name = `refdata_bench_${process.pid}_${Date.now().toString(36)}`;
  const admin = new Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
      await server.stop();
    },
  };
}

export async function startBenchTemporal(): Promise<DevServer> {
  return startDevServer({ cliPath: resolveTemporalCli(), port: await findFreePort(), headless: true, searchAttributeArgs: devServerSearchAttributeArgs() });
}

/** Samples this process's RSS until stopped; returns the peak in MB. */
export function sampleRss(intervalMs = 50): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), intervalMs);
  return {
    stop() {
      clearInterval(t);
      return Math.round(Math.max(peak, process.memoryUsage().rss) / 1024 / 1024);
    },
  };
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const start = process.hrtime.bigint();
  const result = await fn();
  return { result, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

export function psql(url: string, command: string): void {
  execFileSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-q', '-c', command], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** CPU seconds used so far by the process listening on the dev server's port (the `temporal` child), from /proc. */
export function temporalCpuMs(address: string): number | null {
  const port = address.split(':').pop();
  try {
    for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes('start-dev') || !cmd.includes(`--port\u0000${port}\u0000`)) continue;
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
    }
  } catch {
    // not Linux, or the process went away
  }
  return null;
}
