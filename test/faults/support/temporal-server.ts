// A Temporal dev server for the fault suite alone, which a test may kill outright (SIGKILL) and start again on the
// same port and SQLite file: the shared server of the other suites must never see these faults.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { devServerSearchAttributeArgs } from '../../../src/ids';
import { resolveTemporalCli } from '../../../src/temporal/cli-path';
import { findFreePort } from '../../../src/temporal/dev-server';

export interface KillableTemporal {
  address: string;
  /** SIGKILL: no shutdown, whatever the server had not written to its database is lost as in a crash. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and database file; resolves once it answers. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startKillableTemporal(dir: string): Promise<KillableTemporal> {
  const cliPath = resolveTemporalCli();
  const port = await findFreePort();
  const address = `127.0.0.1:${port}`;
  const args = [
    'server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless',
    '--db-filename', path.join(dir, 'temporal.sqlite'), '--log-level', 'warn', ...devServerSearchAttributeArgs(),
  ];
  const log = createWriteStream(path.join(dir, 'temporal.log'), { flags: 'a' });
  log.on('error', () => undefined);
  let child: ChildProcess | null = null;

  const start = async (): Promise<void> => {
    // setpriv: the server dies with this process even when the test run itself is killed.
    const proc = spawn('/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout?.on('data', (c: Buffer) => log.write(c));
    proc.stderr?.on('data', (c: Buffer) => log.write(c));
    child = proc;
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`the Temporal dev server exited at start (log: ${dir}/temporal.log)`);
      if (await answers(address)) return;
      if (Date.now() > deadline) throw new Error('the Temporal dev server did not answer within 60 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  };

  await start();
  return { address, kill, start, stop: async () => { await kill(); log.end(); } };
}

async function answers(address: string): Promise<boolean> {
  const connection = Connection.lazy({ address, connectTimeout: 1_000 });
  try {
    await connection.ensureConnected();
    await connection.withDeadline(Date.now() + 1_000, () => connection.workflowService.getSystemInfo({}));
    return true;
  } catch {
    return false;
  } finally {
    await connection.close().catch(() => undefined);
  }
}
