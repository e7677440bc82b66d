// scratch: throughput with real activities, DB and webhook (deleted after use)
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { startBenchTemporal, createBenchDatabase } from '../lib/env';
import { writeWorkflowBundle } from '../lib/worker-process';
import { addSubscription, fastPolicies, memoryEvents, testSecretsKey } from '../../test/support/reporting';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import { silentLogger } from '../../src/log/logger';
import { startWorker } from '../../workers/worker';
import { deliver } from '../../src/reporting/deliveries';
import { loadConfig } from '../../src/config';

async function main() {
  const n = Number(process.argv[2] ?? 500);
  const subs = 20;
  let got = 0;
  const recv = createServer((req, res) => { req.resume(); req.on('end', () => { got++; res.writeHead(200).end('ok'); }); });
  await new Promise<void>((r) => recv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(recv.address() as AddressInfo).port}/hook`;
  const server = await startBenchTemporal();
  const bdb = await createBenchDatabase();
  const db = createPostgresDatabase(createNodePgExecutor(bdb.url, { max: 20 }), 'postgres');
  await db.migrate();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const bundle = await writeWorkflowBundle('/tmp/tput/bundle.js');
  const reporting = loadConfig({ REFDATA_ALLOW_PRIVATE_DESTINATIONS: 'true' }).reporting;
  const worker = await startWorker({ address: server.address, namespace: 'default', client, db, log: silentLogger(), config: { dropoffDir: '/tmp/tput', batchRows: 1, reporting }, queues: ['delivery'], delivery: { secretsKey: testSecretsKey, events: memoryEvents() }, workflowBundlePath: bundle });
  for (let i = 0; i < subs; i++) await addSubscription(db, { subscriberId: `s${i}`, config: { url, secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}`, format: 'json' } });
  const deps = { db, client, reportRoots: [], retry: fastPolicies() };
  const t0 = Date.now();
  for (let r = 0; r < n / subs; r++) await deliver(deps, { report: { report_id: `r${r}`, report_type: 'RISK_REPORT', content: { content_type: 'text/plain', text: 'x' } } });
  const started = Date.now() - t0;
  while (got < n) await new Promise((r) => setTimeout(r, 100));
  const done = Date.now() - t0;
  console.log(JSON.stringify({ n, startMs: started, doneMs: done, perSec: Math.round((n / done) * 1000) }));
  await worker.shutdown(); await connection.close(); await db.close(); await server.stop(); await bdb.drop(); recv.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
