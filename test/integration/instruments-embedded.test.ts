// The instrument sync on the embedded server as `npm start` opens it without DATABASE_URL (its own data directory,
// a pool of connections): same counts as on any PostgreSQL.
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInstrumentActivities } from '../../activities/instruments';
import { silentLogger } from '../../src/log/logger';
import { gzip, masterRecords, nextDay, toJsonArray } from '../support/instrument-files';
import { mockActivityEnv, runActivity, testInstrumentsConfig } from '../support/instrument-sync-steps';
import { openEmbeddedLikeDev, type EmbeddedForTest } from '../support/embedded';
import { makeTempDir, type TempDir } from '../support/temp';

let embedded: EmbeddedForTest;
let temp: TempDir;

beforeAll(async () => {
  embedded = await openEmbeddedLikeDev();
  await embedded.db.migrate();
  temp = await makeTempDir('refdata-embedded-sync-');
}, 120_000);
afterAll(async () => {
  await embedded?.cleanup();
  await temp?.cleanup();
});

async function sync(file: string) {
  const acts = createInstrumentActivities({ db: embedded.db, log: silentLogger(), config: testInstrumentsConfig({ fileDir: temp.path }), tempDir: temp.path });
  const runId = randomUUID();
  const env = mockActivityEnv({ workflowExecution: { workflowId: 'instrument-sync', runId } });
  try {
    const got = await runActivity(env, acts.downloadInstruments, { runId, workflowId: 'instrument-sync', source: { file }, force: false, trigger: 'cli' as const });
    await runActivity(env, acts.stageInstruments, { runId, ...got });
    return await runActivity(env, acts.applyInstrumentSync, { runId, force: false });
  } finally {
    await acts.cleanupInstrumentSync({ runId });
  }
}

describe('instrument sync on the embedded server', () => {
  it('day 1, an unchanged day and day 2 give the exact counts', async () => {
    const day1 = masterRecords({ equities: 30, indices: 2, futures: 3, options: 40, mcx: 5 });
    const f1 = path.join(temp.path, 'day1.json.gz');
    const f2 = path.join(temp.path, 'day2.json');
    await fs.writeFile(f1, gzip(toJsonArray(day1)));
    await fs.writeFile(f2, toJsonArray(nextDay(day1, { remove: 3, modify: 2, add: 4 })));
    expect(await sync(f1)).toMatchObject({ status: 'succeeded', added: 80, activeAfter: 80 });
    expect(await sync(f1)).toMatchObject({ added: 0, updated: 0, unchanged: 80, deactivated: 0 });
    expect(await sync(f2)).toMatchObject({ added: 4, updated: 2, unchanged: 75, deactivated: 3, activeAfter: 81 });
    expect((await embedded.db.instruments.listInstruments({ nameContains: 'nif', active: true, limit: 5, offset: 0 })).total).toBe(42);
  });

});
