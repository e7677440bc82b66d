// The embedded default database: a real PostgreSQL server from npm's binaries, one data directory per checkout,
// initialised once, on a loopback port derived from its path, recovered without a manual step after a crash.
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { checkReachable, postgresBinaries, serverRunAs, type PostgresBinaries, type RunAs } from './embedded-binaries';

const run = promisify(execFile);

export const EMBEDDED_USER = 'refdata';
export const EMBEDDED_DATABASE = 'refdata';
/** Ports derived from a data directory's path fall in [PORT_BASE, PORT_BASE + PORT_SPAN): below Linux's ephemeral range. */
const PORT_BASE = 20_000;
const PORT_SPAN = 10_000;
const PORT_TRIES = 10;
const START_TIMEOUT_S = 120;
const START_ATTEMPTS = 3;

export interface EmbeddedServerOptions {
  /** The data directory, e.g. `.refdata/pg`. Its password, log and owner files sit beside it (`pg.password`, …). */
  dataDir: string;
  /** Server settings (`-c name=value`), e.g. `{ max_connections: '200' }`. */
  settings?: Record<string, string>;
  /** Data that may be lost in a power cut (tests, generated docs): no fsync at initdb nor at run time. */
  ephemeral?: boolean;
  /** This port and no other (a restart that clients must find again); derived from the path when absent. */
  port?: number;
}

export interface EmbeddedServer {
  /** postgres://refdata:…@127.0.0.1:<port>/refdata */
  url: string;
  port: number;
  dataDir: string;
  version: string;
  /** True when this process started the server (and stop() stops it); false when it joined one another refdata runs. */
  owned: boolean;
  /** Stops the server when this process owns it: `fast` is a clean shutdown, `immediate` a crash. Safe twice. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
}

export interface EmbeddedFiles {
  dataDir: string;
  password: string;
  log: string;
  owner: string;
}

export function embeddedFiles(dataDir: string): EmbeddedFiles {
  const abs = path.resolve(dataDir);
  return { dataDir: abs, password: `${abs}.password`, log: `${abs}.log`, owner: `${abs}.owner` };
}

/** The port a data directory asks for first: from a hash of its path, so two checkouts rarely ask for the same one. */
export function preferredPort(dataDir: string): number {
  const digest = createHash('sha256').update(path.resolve(dataDir)).digest();
  return PORT_BASE + (digest.readUInt32BE(0) % PORT_SPAN);
}

/** Starts (or joins) the embedded server of `dataDir`, initialising the directory the first time. */
export async function startEmbeddedPostgres(opts: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const files = embeddedFiles(opts.dataDir);
  const bins = await postgresBinaries();
  const runAs = await serverRunAs();
  fs.mkdirSync(path.dirname(files.dataDir), { recursive: true });
  checkMajorVersion(files.dataDir, bins);

  const running = runningServer(files, bins);
  if (running && ownerAlive(files)) return joined(files, bins, running.port);
  // No live refdata owns it: this process does. A server still running is an orphan of one killed with -9.
  fs.writeFileSync(files.owner, String(process.pid));
  const pgCtl = (args: string[]) => run(bins.pgCtl, args, { ...runAs, cwd: '/', env: serverEnv() });
  let started = false;
  try {
    if (running) await pgCtl(['stop', '-D', files.dataDir, '-m', 'fast', '-w', '-t', String(START_TIMEOUT_S)]);
    if (!fs.existsSync(path.join(files.dataDir, 'PG_VERSION'))) await initialise(files, bins, runAs, opts.ephemeral ?? false);
    prepareLog(files, runAs);
    await checkReachable(runAs, bins, files.dataDir);
    const port = opts.port ?? (await choosePort(files.dataDir));
    const durability: Record<string, string> = opts.ephemeral ? { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } : {};
    await startServer(files, pgCtl, port, { ...durability, ...opts.settings });
    started = true;
    const url = urlOf(files, port);
    await ensureDatabase(files, port);
    let stopped = false;
    return {
      url, port, dataDir: files.dataDir, version: bins.version, owned: true,
      async stop(mode = 'fast') {
        if (stopped) return;
        stopped = true;
        try {
          // A server that died on its own (kill -9) has nothing left to stop; the next start recovers it.
          if (runningServer(files, bins)) await pgCtl(['stop', '-D', files.dataDir, '-m', mode, '-w', '-t', String(START_TIMEOUT_S)]);
        } finally {
          fs.rmSync(files.owner, { force: true });
        }
      },
    };
  } catch (err) {
    // Started but not usable (e.g. the database could not be created): leave no server behind.
    if (started) await pgCtl(['stop', '-D', files.dataDir, '-m', 'fast', '-w']).catch(() => undefined);
    fs.rmSync(files.owner, { force: true });
    throw err;
  }
}

function joined(files: EmbeddedFiles, bins: PostgresBinaries, port: number): EmbeddedServer {
  return { url: urlOf(files, port), port, dataDir: files.dataDir, version: bins.version, owned: false, stop: async () => undefined };
}

function urlOf(files: EmbeddedFiles, port: number, database = EMBEDDED_DATABASE): string {
  const password = fs.readFileSync(files.password, 'utf8').trim();
  return `postgres://${EMBEDDED_USER}:${password}@127.0.0.1:${port}/${database}`;
}

/** English server messages whatever the machine's locale, so logs read the same everywhere. */
function serverEnv(): NodeJS.ProcessEnv {
  return { ...process.env, LC_MESSAGES: 'C', LANG: 'C' };
}

/** A data directory of another major version cannot be opened by these binaries: refuse before touching it. */
export function checkMajorVersion(dataDir: string, bins: Pick<PostgresBinaries, 'major' | 'version'>): void {
  const file = path.join(dataDir, 'PG_VERSION');
  if (!fs.existsSync(file)) return;
  const major = Number(fs.readFileSync(file, 'utf8').trim());
  if (major === bins.major) return;
  throw new Error(
    `the embedded PostgreSQL data directory ${dataDir} was created by PostgreSQL ${major}, and this refdata ships PostgreSQL ${bins.version}; ` +
      `a server cannot open another major version's files, so refdata leaves them untouched. Dump the data with PostgreSQL ${major}'s pg_dump ` +
      '(or reinstall the refdata version that created it and run it once more), move the directory aside, start refdata to get a new one, and restore the dump into it ' +
      '(docs/deployment.md, "The embedded PostgreSQL").',
  );
}

async function initialise(files: EmbeddedFiles, bins: PostgresBinaries, runAs: RunAs, ephemeral: boolean): Promise<void> {
  if (fs.existsSync(files.dataDir) && fs.readdirSync(files.dataDir).length > 0) {
    throw new Error(`${files.dataDir} is not empty and is not a PostgreSQL data directory (no PG_VERSION); move it aside or set REFDATA_STATE_DIR elsewhere`);
  }
  const password = fs.existsSync(files.password) ? fs.readFileSync(files.password, 'utf8').trim() : randomBytes(18).toString('hex');
  fs.writeFileSync(files.password, `${password}\n`, { mode: 0o600 });
  // initdb works in a directory beside the target and is renamed into place, so an interrupted run leaves no half.
  const work = `${files.dataDir}.init-${process.pid}`;
  const pwDir = fs.mkdtempSync(path.join(os.tmpdir(), 'refdata-pg-'));
  const pwFile = path.join(pwDir, 'pw');
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { mode: 0o700 });
  fs.writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  try {
    if (runAs.uid !== undefined) {
      for (const p of [work, pwDir, pwFile]) fs.chownSync(p, runAs.uid, runAs.gid!);
      await checkReachable(runAs, bins, work);
    }
    await run(bins.initdb, [
      '-D', work, '-U', EMBEDDED_USER, `--pwfile=${pwFile}`, '--auth=scram-sha-256', '-E', 'UTF8',
      '--locale=C', '--locale-provider=builtin', '--builtin-locale=C.UTF-8', '--no-instructions', ...(ephemeral ? ['--no-sync'] : []),
    ], { ...runAs, cwd: '/', env: serverEnv() }).catch((err: { stderr?: string; message: string }) => {
      throw new Error(`initdb of the embedded PostgreSQL in ${files.dataDir} failed: ${(err.stderr || err.message).trim().slice(-1500)}`);
    });
    fs.rmSync(files.dataDir, { recursive: true, force: true }); // empty (checked above)
    fs.renameSync(work, files.dataDir);
  } finally {
    fs.rmSync(pwDir, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function prepareLog(files: EmbeddedFiles, runAs: RunAs): void {
  fs.appendFileSync(files.log, '');
  if (runAs.uid !== undefined) fs.chownSync(files.log, runAs.uid, runAs.gid!);
}

/** The server that postmaster.pid names, when it is alive and is our postgres binary: its port. */
export function runningServer(files: EmbeddedFiles, bins: Pick<PostgresBinaries, 'postgres'>): { pid: number; port: number } | null {
  const pidFile = path.join(files.dataDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return null;
  const lines = fs.readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return null;
  const exe = `/proc/${pid}/exe`;
  if (fs.existsSync('/proc/self/exe')) {
    let isOurs = false;
    try {
      isOurs = fs.realpathSync(exe) === fs.realpathSync(bins.postgres);
    } catch {
      isOurs = false; // another user's process (EACCES): not our server
    }
    if (!isOurs) {
      // The pid was reused by something else after a crash: PostgreSQL would refuse to start over its lock file.
      fs.rmSync(pidFile, { force: true });
      return null;
    }
  }
  return { pid, port };
}

function ownerAlive(files: EmbeddedFiles): boolean {
  if (!fs.existsSync(files.owner)) return false;
  const pid = Number(fs.readFileSync(files.owner, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The path-derived port, or the next few after it, or any free one: two checkouts never share a server. */
async function choosePort(dataDir: string): Promise<number> {
  const first = preferredPort(dataDir);
  for (let i = 0; i < PORT_TRIES; i++) {
    const port = PORT_BASE + ((first - PORT_BASE + i) % PORT_SPAN);
    if (await isFree(port)) return port;
  }
  return freePort();
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

async function startServer(
  files: EmbeddedFiles, pgCtl: (args: string[]) => Promise<unknown>, port: number, settings: Record<string, string>,
): Promise<void> {
  // TCP on loopback only, no Unix socket (a deep checkout path would pass the socket's length limit).
  const all = { listen_addresses: '127.0.0.1', unix_socket_directories: "''", ...settings };
  const options = [`-p ${port}`, ...Object.entries(all).map(([k, v]) => `-c ${k}=${v}`)].join(' ');
  for (let attempt = 1; ; attempt++) {
    const logStart = fs.statSync(files.log).size;
    try {
      // pg_ctl puts the server in its own session: a Ctrl-C at the terminal reaches refdata, which stops it last.
      await pgCtl(['start', '-D', files.dataDir, '-l', files.log, '-w', '-t', String(START_TIMEOUT_S), '-s', '-o', options]);
      return;
    } catch (err) {
      const tail = readFrom(files.log, logStart);
      // Backends of a server killed with -9 hold its shared memory until they notice, within a second or so.
      if (attempt < START_ATTEMPTS && /shared memory block is still in use|lock file .* already exists/i.test(tail)) {
        await new Promise((r) => setTimeout(r, 1000 * attempt));
        continue;
      }
      const reason = tail.trim() || (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
      throw new Error(`the embedded PostgreSQL in ${files.dataDir} did not start (log: ${files.log}): ${reason.slice(-1500)}`);
    }
  }
}

function readFrom(file: string, offset: number): string {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.max(0, size - offset));
    fs.readSync(fd, buf, 0, buf.length, offset);
    return buf.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** The refdata database, created the first time (initdb makes only `postgres`). */
async function ensureDatabase(files: EmbeddedFiles, port: number): Promise<void> {
  const client = new Client({ connectionString: urlOf(files, port, 'postgres') });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_DATABASE]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${EMBEDDED_DATABASE}`);
  } finally {
    await client.end();
  }
}

export interface EmbeddedStatus {
  dataDir: string;
  /** Major version that created the data directory; null before the first start. */
  major: number | null;
  /** Port of the running server; null when it is not running. */
  port: number | null;
  /** The URL without its password (in `<dataDir>.password`), for people and tools. */
  displayUrl: string | null;
  files: EmbeddedFiles;
}

/** What a reader can tell about the embedded server without starting it (for `refdata doctor` and `refdata dev`). */
export function embeddedStatus(dataDir: string): EmbeddedStatus {
  const files = embeddedFiles(dataDir);
  const versionFile = path.join(files.dataDir, 'PG_VERSION');
  const major = fs.existsSync(versionFile) ? Number(fs.readFileSync(versionFile, 'utf8').trim()) : null;
  const pidFile = path.join(files.dataDir, 'postmaster.pid');
  let port: number | null = null;
  if (fs.existsSync(pidFile)) {
    const lines = fs.readFileSync(pidFile, 'utf8').split('\n');
    if (isAlive(Number(lines[0]))) port = Number(lines[3]) || null;
  }
  const displayUrl = port ? `postgres://${EMBEDDED_USER}@127.0.0.1:${port}/${EMBEDDED_DATABASE}` : null;
  return { dataDir: files.dataDir, major, port, displayUrl, files };
}
