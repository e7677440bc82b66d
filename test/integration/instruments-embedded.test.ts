// The instrument sync on the embedded database (PGlite, what `npm start` uses without DATABASE_URL): same counts.
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInstrumentActivities } from '../../activities/instruments';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createPgliteExecutor } from '../../src/db/postgres/pglite';
import type { Database } from '../../src/db/types';
import { silentLogger } from '../../src/log/logger';
import { gzip, masterRecords, nextDay, toJsonArray } from '../support/instrument-files';
import { mockActivityEnv, runActivity, testInstrumentsConfig } from '../support/instrument-sync-steps';
import { makeTempDir, type TempDir } from '../support/temp';

let db: Database;
let temp: TempDir;

beforeAll(async () => {
  db = createPostgresDatabase(await createPgliteExecutor(), 'embedded');
  await db.migrate();
  temp = await makeTempDir('refdata-pglite-sync-');
});
afterAll(async () => {
  await db?.close();
  await temp?.cleanup();
});

async function sync(file: string) {
  const acts = createInstrumentActivities({ db, log: silentLogger(), config: testInstrumentsConfig({ fileDir: temp.path }), tempDir: temp.path });
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

describe('instrument sync on PGlite', () => {
  it('day 1, an unchanged day and day 2 give the exact counts', async () => {
    const day1 = masterRecords({ equities: 30, indices: 2, futures: 3, options: 40, mcx: 5 });
    const f1 = path.join(temp.path, 'day1.json.gz');
    const f2 = path.join(temp.path, 'day2.json');
    await fs.writeFile(f1, gzip(toJsonArray(day1)));
    await fs.writeFile(f2, toJsonArray(nextDay(day1, { remove: 3, modify: 2, add: 4 })));
    expect(await sync(f1)).toMatchObject({ status: 'succeeded', added: 80, activeAfter: 80 });
    expect(await sync(f1)).toMatchObject({ added: 0, updated: 0, unchanged: 80, deactivated: 0 });
    expect(await sync(f2)).toMatchObject({ added: 4, updated: 2, unchanged: 75, deactivated: 3, activeAfter: 81 });
    expect((await db.instruments.listInstruments({ nameContains: 'nif', active: true, limit: 5, offset: 0 })).total).toBe(42);
  });
});
