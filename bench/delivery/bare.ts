// bench/delivery/bare: the floor under bench/delivery — what Temporal alone costs per delivery-shaped workflow on this
// machine. The same dev server (in memory, eager workflow start and eager activities), a Worker of the SDK and a client
// on its connection starting runs eagerly (as the API starts deliveries), no API, no database, no HTTP: each workflow runs one local activity that notes how long after
// its start request it ran, and completes. Reports latency percentiles and CPU per workflow (this process: client +
// SDK worker; the dev server) at each rate, so the delivery figures can be read against it.
// Usage: npx tsx bench/delivery/bare.ts [--rates 25,50,100] [--seconds 20]   → JSON on stdout
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { devServerDynamicConfigArgs, devServerSearchAttributeArgs } from '../../src/ids';
import { resolveTemporalCli } from '../../src/temporal/cli-path';
import { findFreePort, startDevServer } from '../../src/temporal/dev-server';
import { temporalCpuMs } from '../lib/env';
import { bareDelivery } from './bare-workflow';

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
const r1 = (n: number) => Math.round(n * 10) / 10;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rates: { type: 'string', default: '25,50,100' }, seconds: { type: 'string', default: '20' } } });
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const server = await startDevServer({ cliPath: resolveTemporalCli(), port: await findFreePort(), headless: true, searchAttributeArgs: [...devServerSearchAttributeArgs(), ...devServerDynamicConfigArgs()] });
  const latencies: number[] = [];
  const connection = await NativeConnection.connect({ address: server.address });
  const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./bare-workflow'), logger: new DefaultLogger('WARN') });
  const worker = await Worker.create({
    connection, namespace: 'default', taskQueue: 'bare', workflowBundle: bundle, maxConcurrentWorkflowTaskExecutions: 200,
    activities: { touch: async (sentAt: number) => void latencies.push(performance.timeOrigin + performance.now() - sentAt) },
  });
  const running = worker.run();
  const client = new Client({ connection });
  const keepAlive = setInterval(() => undefined, 1000);
  const phases = [];
  try {
    let n = 0;
    for (const rate of values.rates.split(',').map(Number)) {
      latencies.length = 0;
      const seconds = Number(values.seconds);
      const cpu0 = process.cpuUsage();
      const server0 = temporalCpuMs(server.address);
      const started = performance.now();
      const results: Promise<unknown>[] = [];
      // Sends on a fixed schedule (not after the previous answer), as the delivery bench's load generator does.
      for (let i = 0; i < rate * seconds; i++) {
        const due = started + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const sentAt = performance.timeOrigin + performance.now();
        results.push(client.workflow.start(bareDelivery, { taskQueue: 'bare', workflowId: `bare-${n++}`, args: [sentAt], requestEagerStart: true }));
      }
      await Promise.all(results);
      // Started is not yet run: wait for every local activity (results are not fetched, a delivery's starter does not either).
      while (latencies.length < rate * seconds) await new Promise((r) => setTimeout(r, 20));
      const cpu = process.cpuUsage(cpu0);
      const server1 = temporalCpuMs(server.address);
      const count = rate * seconds;
      const sorted = [...latencies].sort((a, b) => a - b);
      phases.push({
        rate, seconds, workflows: count,
        startToActivityMs: { p50: r1(percentile(sorted, 50)), p95: r1(percentile(sorted, 95)), p99: r1(percentile(sorted, 99)) },
        cpuMsPerWorkflow: { clientAndSdkWorker: r1((cpu.user + cpu.system) / 1000 / count), temporalServer: server0 !== null && server1 !== null ? r1((server1 - server0) / count) : null },
        loadAverage1m: r1(os.loadavg()[0]!),
      });
      await new Promise((r) => setTimeout(r, 3000));
    }
    process.stdout.write(`${JSON.stringify({ bench: 'delivery-bare', machine: { cpus: os.cpus().length }, what: 'workflow start request → its local activity running (ms); no API, database or HTTP', phases }, null, 2)}\n`);
  } finally {
    clearInterval(keepAlive);
    worker.shutdown();
    await running;
    await connection.close();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/delivery/bare: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
