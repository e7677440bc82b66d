// Runs `refdata worker` as a separate process for benchmarks, so its own peak memory (VmHWM) can be read.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

export async function writeWorkflowBundle(file: string): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: new DefaultLogger('WARN') });
  fs.writeFileSync(file, code);
  return file;
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Peak resident memory of the worker process so far, in MB (from /proc). */
  peakRssMb(): number;
  /** Resident memory of the worker process now, in MB. */
  rssMb(): number;
  /** CPU time (user + system) the worker process has used so far, in seconds (from /proc). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export function spawnWorker(env: Record<string, string>, queues?: string[]): WorkerProcess {
  const child = spawn(process.execPath, [path.join(__dirname, '../../bin/refdata'), 'worker', ...(queues ? ['--queues', queues.join(',')] : [])], {
    // Two malloc arenas, as the image starts every refdata process (Dockerfile).
    env: { MALLOC_ARENA_MAX: '2', ...process.env, LOG_LEVEL: 'warn', LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return {
    child,
    peakRssMb() {
      const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
      return Math.round(kb / 1024);
    },
    rssMb() {
      const kb = Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
      return Math.round(kb / 1024);
    },
    cpuSeconds() {
      // Fields 14 and 15 of /proc/PID/stat (utime, stime) in clock ticks; the command name may hold spaces, so count after ')'.
      const fields = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(')').pop()!.trim().split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** Waits until some worker polls the task queue for both workflow and activity tasks. */
export async function waitForPollers(client: Client, namespace: string, taskQueue: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const counts = await Promise.all(
      [1, 2].map(async (taskQueueType) => {
        const res = await client.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue }, taskQueueType });
        return res.pollers?.length ?? 0;
      }),
    );
    if (counts.every((n) => n > 0)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no worker polled ${taskQueue} within ${timeoutMs} ms`);
}
