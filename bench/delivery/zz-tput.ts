// scratch: raw workflow throughput on this machine (deleted after use)
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, Runtime, DefaultLogger } from '@temporalio/worker';
import { startBenchTemporal } from '../lib/env';
import { writeWorkflowBundle } from '../lib/worker-process';
import { fastPolicies } from '../../test/support/reporting';

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const n = Number(process.argv[2] ?? 500);
  const server = process.env.TPUT_FILE ? await (await import('../../src/temporal/dev-server')).startDevServer({ cliPath: (await import('../../src/temporal/cli-path')).resolveTemporalCli(), port: await (await import('../../src/temporal/dev-server')).findFreePort(), headless: true, dbFilename: '/tmp/tput/t-' + Date.now() + '.db', searchAttributeArgs: (await import('../../src/ids')).devServerSearchAttributeArgs() }) : await startBenchTemporal();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const native = await NativeConnection.connect({ address: server.address });
  const bundle = await writeWorkflowBundle('/tmp/tput/bundle.js');
  const activities = {
    async attemptDelivery() { return { attempt: 1, detail: 'ok', remoteId: null, alreadyDelivered: false, eventPublished: true }; },
    async publishDeliveredEvent() { return { topic: 'x' }; },
    async finishFailedDelivery() {},
  };
  const worker = await Worker.create({ connection: native, taskQueue: 'delivery', workflowBundle: { codePath: bundle }, activities });
  const running = worker.run();
  const policy = fastPolicies().API_WEBHOOK;
  const t0 = Date.now();
  const handles = [];
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < n) {
      const i = next++;
      handles.push(await client.workflow.start('delivery', { taskQueue: 'delivery', workflowId: `t-${i}-${t0}`, args: [{ deliveryId: `d${i}`, subscriptionId: 's', subscriberId: 'x', channel: 'API_WEBHOOK', reportId: 'r', reportType: 'RISK_REPORT', priority: 3, policy }] }));
    }
  }));
  const started = Date.now() - t0;
  await Promise.all(handles.map((h) => h.result()));
  const done = Date.now() - t0;
  console.log(JSON.stringify({ n, startMs: started, doneMs: done, perSec: Math.round((n / done) * 1000) }));
  worker.shutdown(); await running; await native.close(); await connection.close(); await server.stop();
}
main().catch((e) => { console.error(e); process.exit(1); });
