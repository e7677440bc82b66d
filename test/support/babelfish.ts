// Babelfish for PostgreSQL (SQL Server's TDS protocol and T-SQL on a modified PostgreSQL) as the test run's SQL Server:
// scripts/ensure-babelfish builds it into the tools cache; here a cluster is initialised once (a template kept in the
// cache), and each test run starts a copy of it on free loopback ports and stops it afterwards.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sql from 'mssql';
import { Client } from 'pg';
import { toolsDir } from '../../src/temporal/cli-path';
import { findFreePort } from '../../src/temporal/dev-server';

const run = promisify(execFile);

/** The OS user scripts/ensure-babelfish creates: PostgreSQL refuses to run as root. */
const SERVER_USER = 'refdata-babelfish';
/** Loopback only, in a throw-away cluster; TDS logins need a password. */
const LOGIN = 'refdata';
const PASSWORD = 'refdata-Babel1';
const DATABASE = 'refdata';
/** Bump when the initialisation below changes, so older templates are made again. */
const TEMPLATE_VERSION = '1';

export interface RunningBabelfish {
  /** mssql://… for MSSQL_URL. */
  url: string;
  stop(): Promise<void>;
}

/** The installed Babelfish and its build stamp, or why there is none (the SQL Server suites then skip). */
export function babelfishInstall(env: NodeJS.ProcessEnv = process.env): { home: string; stamp: string } | { missing: string } {
  const home = path.join(toolsDir(env), 'babelfish');
  const stampFile = path.join(home, '.complete');
  if (!existsSync(stampFile)) {
    return {
      missing: `Babelfish is not built in ${home} (scripts/ensure-tools --for test builds it when REFDATA_BABELFISH_SRC names its sources)`,
    };
  }
  return { home, stamp: readFileSync(stampFile, 'utf8').trim() };
}

const asRoot = () => process.getuid?.() === 0;

async function serverIds(): Promise<{ uid: number; gid: number }> {
  const uid = Number((await run('id', ['-u', SERVER_USER])).stdout.trim());
  const gid = Number((await run('id', ['-g', SERVER_USER])).stdout.trim());
  return { uid, gid };
}

/** A Babelfish binary, as the server user when we are root, from a directory that user may enter. */
function tool(home: string) {
  return (name: string, args: string[]) => {
    const bin = path.join(home, 'bin', name);
    return asRoot() ? run('runuser', ['-u', SERVER_USER, '--', bin, ...args], { cwd: '/' }) : run(bin, args, { cwd: '/' });
  };
}

async function chownTree(dir: string): Promise<void> {
  if (!asRoot()) return;
  const { uid, gid } = await serverIds();
  await run('chown', ['-R', `${uid}:${gid}`, dir]);
}

function serverOptions(dir: string, pgPort: number, tdsPort: number): string {
  // fsync off: a test cluster is thrown away after the run, and the machine is shared.
  return `-p ${pgPort} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c babelfishpg_tds.port=${tdsPort}`;
}

async function logTail(log: string): Promise<string> {
  const text = await fs.readFile(log, 'utf8').catch(() => '');
  return text ? `\nserver log (end):\n${text.slice(-3000)}` : '';
}

/** Connects over TDS and runs `fn`; Babelfish opens its TDS listener a moment after PostgreSQL accepts connections. */
async function withTds<T>(tdsPort: number, database: string, fn: (pool: sql.ConnectionPool) => Promise<T>): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 30; attempt++) {
    const pool = new sql.ConnectionPool({
      server: '127.0.0.1', port: tdsPort, user: LOGIN, password: PASSWORD, database,
      options: { encrypt: false, trustServerCertificate: true }, connectionTimeout: 10_000,
    });
    try {
      await pool.connect();
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    try {
      return await fn(pool);
    } finally {
      await pool.close();
    }
  }
  throw new Error(`no TDS connection to Babelfish on 127.0.0.1:${tdsPort}: ${(lastError as Error)?.message}`);
}

/** initdb, the Babelfish extensions, the login and a database; then the cluster is stopped and kept as the template. */
async function initialiseTemplate(home: string, dir: string): Promise<void> {
  const pg = tool(home);
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'init.log');
  await chownTree(dir);
  await pg('initdb', ['-D', data, '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8', '--auth-local=trust', '--auth-host=trust']);
  await fs.appendFile(path.join(data, 'postgresql.conf'), "shared_preload_libraries = 'babelfishpg_tds'\n");
  // TDS logins are refused under scram-sha-256: md5 for every role but the local superuser.
  await fs.writeFile(
    path.join(data, 'pg_hba.conf'),
    'local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 md5\n',
  );
  const pgPort = await findFreePort();
  const tdsPort = await findFreePort();
  const options = serverOptions(dir, pgPort, tdsPort);
  await pg('pg_ctl', ['-D', data, '-o', options, '-l', log, '-w', '-t', '120', 'start']);
  try {
    const admin = new Client({ host: '127.0.0.1', port: pgPort, user: 'postgres', database: 'postgres' });
    await admin.connect();
    try {
      await admin.query(`CREATE USER ${LOGIN} WITH SUPERUSER CREATEDB CREATEROLE PASSWORD '${PASSWORD}' INHERIT`);
      await admin.query(`CREATE DATABASE babelfish_db OWNER ${LOGIN}`);
    } finally {
      await admin.end();
    }
    const bbf = new Client({ host: '127.0.0.1', port: pgPort, user: 'postgres', database: 'babelfish_db' });
    await bbf.connect();
    try {
      await bbf.query('CREATE EXTENSION IF NOT EXISTS "babelfishpg_tds" CASCADE');
      await bbf.query(`GRANT ALL ON SCHEMA sys TO ${LOGIN}`);
      await bbf.query(`ALTER SYSTEM SET babelfishpg_tsql.database_name = 'babelfish_db'`);
      // multi-db: each T-SQL database is its own set of schemas, as on SQL Server.
      await bbf.query(`ALTER SYSTEM SET babelfishpg_tsql.migration_mode = 'multi-db'`);
      await bbf.query('SELECT pg_reload_conf()');
      await bbf.query(`CALL sys.initialize_babelfish('${LOGIN}')`);
    } finally {
      await bbf.end();
    }
    await pg('pg_ctl', ['-D', data, '-o', options, '-l', log, '-w', '-t', '120', 'restart']);
    await withTds(tdsPort, 'master', (pool) => pool.request().batch(`CREATE DATABASE ${DATABASE}`));
  } catch (err) {
    throw new Error(`initialising Babelfish failed: ${(err as Error).message}${await logTail(log)}`, { cause: err });
  } finally {
    await pg('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '120', 'stop']).catch(() => undefined);
  }
}

/** The initialised cluster for this build, made once; concurrent runs each make one and the first rename wins. */
async function ensureTemplate(home: string, stamp: string): Promise<string> {
  const template = path.join(toolsDir(), 'babelfish-template');
  const want = `${stamp}; template ${TEMPLATE_VERSION}`;
  const stampFile = path.join(template, '.initialised');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === want) return template;
  const dir = await fs.mkdtemp(`${template}.tmp-`);
  try {
    await initialiseTemplate(home, dir);
    await fs.writeFile(path.join(dir, '.initialised'), `${want}\n`);
    if (existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === want) return template;
    await fs.rm(template, { recursive: true, force: true });
    await fs.rename(dir, template);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  return template;
}

/**
 * Starts a copy of the template on free loopback ports. Returns null, with the reason, when Babelfish is not built
 * here; a built Babelfish that fails to start is an error.
 */
export async function startBabelfish(): Promise<RunningBabelfish | { missing: string }> {
  const install = babelfishInstall();
  if ('missing' in install) return install;
  const template = await ensureTemplate(install.home, install.stamp);
  const pg = tool(install.home);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'refdata-babelfish-'));
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'server.log');
  let started = false;
  // A run that ends without its teardown (an interrupted vitest) must not leave the server running: stopped on exit.
  const onExit = () => {
    if (!started) return;
    const bin = path.join(install.home, 'bin', 'pg_ctl');
    const args = ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop'];
    try {
      if (asRoot()) execFileSync('runuser', ['-u', SERVER_USER, '--', bin, ...args], { cwd: '/', stdio: 'ignore' });
      else execFileSync(bin, args, { cwd: '/', stdio: 'ignore' });
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  const stop = async () => {
    process.removeListener('exit', onExit);
    if (started) await pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '60', 'stop']).catch(() => undefined);
    started = false;
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    await fs.cp(path.join(template, 'data'), data, { recursive: true, preserveTimestamps: true });
    await fs.chmod(data, 0o700);
    await chownTree(dir);
    const tdsPort = await findFreePort();
    const options = serverOptions(dir, await findFreePort(), tdsPort);
    await pg('pg_ctl', ['-D', data, '-o', options, '-l', log, '-w', '-t', '120', 'start']);
    started = true;
    await withTds(tdsPort, DATABASE, (pool) => pool.request().query('SELECT 1 AS ok'));
    return { url: `mssql://${LOGIN}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${tdsPort}/${DATABASE}?encrypt=false`, stop };
  } catch (err) {
    const tail = await logTail(log);
    await stop();
    throw new Error(`could not start Babelfish: ${(err as Error).message}${tail}`, { cause: err });
  }
}

/**
 * Global setup's part: unless MSSQL_URL already names a SQL Server, starts Babelfish for a run whose test files
 * mention mssql and sets MSSQL_URL for them (test files read it from the environment); without a build it says
 * why the SQL Server suites will skip. Returns the stop function.
 */
export async function babelfishForRun(testFiles: string[]): Promise<() => Promise<void>> {
  const none = async () => undefined;
  if (process.env.MSSQL_URL) return none;
  if (!testFiles.some((f) => readFileSync(f, 'utf8').includes('mssql'))) return none;
  const started = await startBabelfish();
  if ('missing' in started) {
    process.stderr.write(`global-setup: SQL Server suites skip: ${started.missing}\n`);
    return none;
  }
  process.env.MSSQL_URL = started.url;
  // Lets suites skip, saying why, the statements Babelfish lacks (test/support/db-targets.ts).
  process.env.REFDATA_TEST_MSSQL_ENGINE = 'babelfish';
  return async () => {
    delete process.env.MSSQL_URL;
    delete process.env.REFDATA_TEST_MSSQL_ENGINE;
    await started.stop();
  };
}
