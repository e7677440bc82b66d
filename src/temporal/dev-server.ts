// Runs a local Temporal dev server (`temporal server start-dev`) as a child process, for `refdata dev` and the tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, createWriteStream, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';

export interface DevServerOptions {
  /** Path of the `temporal` binary (see resolveTemporalCli). */
  cliPath: string;
  /** Frontend gRPC port, bound on 127.0.0.1. */
  port: number;
  /** Web UI port; the CLI's default is port + 1000. Ignored when headless. */
  uiPort?: number;
  headless?: boolean;
  /** SQLite file that keeps workflow state across restarts; in memory when absent. */
  dbFilename?: string;
  /** Namespace to create besides `default`. */
  namespace?: string;
  /** More namespaces to create (e.g. one per test file). */
  namespaces?: string[];
  /** e.g. `['--search-attribute', 'FilePath=Keyword', …]` from devServerSearchAttributeArgs(). */
  searchAttributeArgs: string[];
  /** Appends the server's stdout and stderr here. */
  logFile?: string;
}

export interface DevServer {
  /** host:port for Connection.connect / NativeConnection.connect. */
  address: string;
  uiUrl: string | null;
  /** SIGTERM, then SIGKILL after 10 s; safe to call more than once. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;
const READY_POLL_MS = 250;
const PROBE_TIMEOUT_MS = 2_000;
const STOP_GRACE_MS = 10_000;
const OUTPUT_TAIL_CHARS = 4_000;
const SETPRIV = '/usr/bin/setpriv';

/** A port that was free on 127.0.0.1 a moment ago (the OS picks it). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not read the port the OS assigned'))));
    });
  });
}

/** Starts the dev server and resolves once it answers gRPC calls; rejects with the server's last output otherwise. */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const address = `127.0.0.1:${opts.port}`;
  const uiUrl = opts.headless ? null : `http://127.0.0.1:${opts.uiPort ?? opts.port + 1000}`;
  const child = spawnServer(opts.cliPath, devServerArgs(opts));
  const output = captureOutput(child, opts.logFile);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const spawnFailed = new Promise<Error>((resolve) => child.on('error', resolve)); // 'on': a later error must not go unhandled

  // Without this the server would keep running after `refdata dev` or a test run exits normally.
  const killOnExit = (): void => {
    child.kill('SIGTERM');
  };
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      await output.close();
    })();
    return stopping;
  };

  try {
    await waitUntilReady(address, extraNamespaces(opts), exited, spawnFailed);
  } catch (err) {
    await stop();
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `Temporal dev server (${opts.cliPath}) did not start on ${address}: ${reason}\n` +
        `--- last server output ---\n${output.tail() || '(none)'}`,
    );
  }
  return { address, uiUrl, stop };
}

function devServerArgs(opts: DevServerOptions): string[] {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port)];
  if (opts.headless) args.push('--headless');
  else if (opts.uiPort !== undefined) args.push('--ui-port', String(opts.uiPort));
  if (opts.dbFilename) args.push('--db-filename', opts.dbFilename);
  for (const namespace of extraNamespaces(opts)) args.push('--namespace', namespace);
  args.push('--log-level', 'warn', ...opts.searchAttributeArgs);
  return args;
}

function extraNamespaces(opts: DevServerOptions): string[] {
  const names = [opts.namespace, ...(opts.namespaces ?? [])].filter((n): n is string => !!n && n !== 'default');
  return [...new Set(names)];
}

/**
 * Spawns non-detached. On Linux, setpriv (util-linux) execs the CLI with a parent-death signal, so the
 * server also dies when this process is killed outright (SIGKILL, crash) and the 'exit' hook cannot run.
 * The signal follows the thread that spawned it: call this from the main thread, not a worker thread.
 */
function spawnServer(cliPath: string, args: string[]): ChildProcess {
  const stdio: ['ignore', 'pipe', 'pipe'] = ['ignore', 'pipe', 'pipe'];
  if (process.platform === 'linux' && isExecutable(SETPRIV)) {
    return spawn(SETPRIV, ['--pdeathsig', 'TERM', '--', cliPath, ...args], { stdio });
  }
  return spawn(cliPath, args, { stdio });
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Drains the child's pipes (a full pipe would block the server), keeping a tail for error messages. */
function captureOutput(child: ChildProcess, logFile?: string): { tail(): string; close(): Promise<void> } {
  let tail = '';
  const log: WriteStream | undefined = logFile ? createWriteStream(logFile, { flags: 'a' }) : undefined;
  log?.on('error', () => undefined); // a broken log file must not take the server down
  const onData = (chunk: Buffer): void => {
    log?.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return {
    tail: () => tail.trim(),
    close: () => new Promise<void>((resolve) => (log ? log.end(resolve) : resolve())),
  };
}

async function waitUntilReady(
  address: string,
  namespaces: string[],
  exited: Promise<void>,
  spawnFailed: Promise<Error>,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  let done: string | undefined;
  void exited.then(() => (done ??= 'the server exited'));
  void spawnFailed.then((err) => (done ??= `could not run it: ${err.message}`));
  while (Date.now() < deadline) {
    if (done) throw new Error(done);
    try {
      await probe(address, namespaces);
      return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
  if (done) throw new Error(done);
  const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`no answer within ${READY_TIMEOUT_MS / 1000} s${detail}`);
}

/** One readiness check: the frontend answers, and the extra namespaces exist (created during start-up). */
async function probe(address: string, namespaces: string[]): Promise<void> {
  // Connection.connect() would leak its gRPC channel when the first call fails (it keeps the event loop
  // alive, retrying); lazy() + ensureConnected() lets us close the connection on every attempt.
  const connection = Connection.lazy({ address, connectTimeout: PROBE_TIMEOUT_MS });
  try {
    await connection.ensureConnected();
    await connection.withDeadline(Date.now() + PROBE_TIMEOUT_MS, async () => {
      await connection.workflowService.getSystemInfo({});
      for (const namespace of namespaces) await connection.workflowService.describeNamespace({ namespace });
    });
  } finally {
    await connection.close();
  }
}
