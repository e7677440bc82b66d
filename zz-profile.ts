import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createInstrumentActivities } from './activities/instruments';
import { loadConfig } from './src/config';
import { createPostgresDatabase } from './src/db/postgres';
import { createNodePgExecutor } from './src/db/postgres/node-pg';
import { silentLogger } from './src/log/logger';
import { createBenchDatabase } from './bench/lib/env';
(async () => {
  const bdb = await createBenchDatabase();
  const exec = createNodePgExecutor(bdb.url);
  const db = createPostgresDatabase(exec, 'postgres');
  await db.migrate();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'p-'));
  const acts = createInstrumentActivities({ db, log: silentLogger(), config: { ...loadConfig({}).instruments, batchSize: 5000 }, tempDir: tmp });
  for (const round of [1, 2, 3]) {
    const runId = `00000000-0000-0000-0000-00000000000${round}`;
    const env = new MockActivityEnvironment({ workflowExecution: { workflowId: 'x', runId } }, { logger: new DefaultLogger('ERROR') });
    const f = (await env.run(acts.downloadInstruments, { runId, workflowId: 'x', source: { file: '/tmp/bx/d1.json.gz' }, force: false, trigger: 'cli' as const })) as { path: string; bytes: number; sha256: string };
    let t = Date.now();
    await env.run(acts.stageInstruments, { runId, path: f.path, bytes: f.bytes, sha256: f.sha256 });
    const stage = Date.now() - t; t = Date.now();
    await env.run(acts.applyInstrumentSync, { runId, force: false });
    console.log(round, 'stage', stage, 'apply', Date.now() - t);
    await acts.cleanupInstrumentSync({ runId });
  }
  await exec.close(); await bdb.drop();
})();
