// The documents' performance thresholds through the threshold evaluator on real PostgreSQL: seeded sync runs and
// loads cross each one, the notifications and the metrics say so, and a recovered state clears them.
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { Database } from '../../src/db/types';
import { silentLogger } from '../../src/log/logger';
import { metricsRegistry } from '../../src/metrics/registry';
import { createThresholdEvaluator } from '../../src/metrics/thresholds';
import { createNotifier } from '../../src/notify/notifier';
import { createTestDatabase, type TestDatabase } from '../support/pg';

let tdb: TestDatabase;
let db: Database;
let sql: Client;
const HOUR = 3600_000;
// One clock for the whole file: expected values are computed from the same instants the rows were given.
const NOW = Date.now();
const at = (hoursAgo: number) => new Date(NOW - hoursAgo * HOUR);

beforeAll(async () => {
  tdb = await createTestDatabase(inject('pgUrl'));
  db = createPostgresDatabase(createNodePgExecutor(tdb.url), 'postgres');
  await db.migrate();
  sql = new Client({ connectionString: tdb.url });
  await sql.connect();
});
afterAll(async () => {
  await sql?.end();
  await db?.close();
  await tdb?.drop();
});

const syncRun = (id: string, status: string, startedHoursAgo: number, durationMin: number) =>
  sql.query(
    `INSERT INTO ref.instrument_sync_runs (run_id, workflow_id, trigger, source, status, started_at, finished_at, duration_ms)
     VALUES ($1, 'instrument-sync', 'schedule', 'url', $2, $3, $4, $5)`,
    [id, status, at(startedHoursAgo), status === 'running' ? null : new Date(at(startedHoursAgo).getTime() + durationMin * 60_000), status === 'running' ? null : durationMin * 60_000],
  );
const load = (id: string, rows: number, seconds: number, finishedHoursAgo: number) =>
  sql.query(
    `INSERT INTO ref.loads (load_id, target_schema, target_table, staging_schema, staging_table, mode, file_path, status, rows_committed, started_at, finished_at)
     VALUES ($1, 'data', 'prices', 'data', 'prices', 'append', $2, 'loaded', $3, $4, $5)`,
    [id, `/drop/${id}.csv`, rows, new Date(at(finishedHoursAgo).getTime() - seconds * 1000), at(finishedHoursAgo)],
  );

async function evaluate() {
  const notifier = createNotifier();
  const evaluator = createThresholdEvaluator({ db, notifier, log: silentLogger(), config: loadConfig({}).alerts });
  const statuses = await evaluator.evaluate();
  return { firing: statuses.filter((s) => s.firing).map((s) => s.alert).sort(), notes: notifier.recent() };
}

const gauge = async (name: string, labels: Record<string, string> = {}) =>
  (await metricsRegistry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;

describe('performance thresholds', () => {
  it('a long sync, 2 failures in the last 6, a 30-hour-old success and a slow load each raise their alert, with their metrics', async () => {
    await syncRun('s1', 'succeeded', 40, 10);
    await syncRun('s2', 'succeeded', 30, 12);
    await syncRun('s3', 'failed', 20, 1);
    await syncRun('s4', 'cancelled', 15, 1);
    await syncRun('s5', 'timed_out', 10, 30);
    await syncRun('s6', 'guard_tripped', 5, 45);
    for (let i = 0; i < 6; i++) await load(`fast-${i}`, 100_000, 10, 10 - i); // 10,000 rows/s
    await load('slow', 100_000, 100, 1); // 1,000 rows/s: a tenth of the median

    const { firing, notes } = await evaluate();
    expect(firing).toEqual(['ingest_rate', 'sync_duration', 'sync_error_rate', 'sync_failed', 'sync_stale']);
    const titles = notes.filter((n) => n.kind === 'threshold.crossed').map((n) => n.title);
    expect(titles).toEqual(expect.arrayContaining([
      'Instrument sync took 45 min', 'Instrument sync error rate 50.0 %', 'Last successful instrument sync 29 h ago', 'Ingest rate 1,000 rows/s',
    ]));
    expect(notes.find((n) => n.refs.alert === 'ingest_rate')?.message).toMatch(/load slow into data\.prices ran at 1,000 rows\/s, under 20 % of the recent median 10,000 rows\/s/);
    expect(await gauge('refdata_instrument_sync_last_duration_seconds')).toBe(45 * 60);
    expect(await gauge('refdata_instrument_sync_error_ratio')).toBe(0.5);
    expect(await gauge('refdata_instrument_sync_last_success_timestamp_seconds')).toBe(Math.floor((at(30).getTime() + 12 * 60_000) / 1000));
    expect(await gauge('refdata_ingest_rows_per_second', { which: 'median' })).toBe(10_000);
  });

  it('a quick successful sync and a normal load bring them back under', async () => {
    await syncRun('s7', 'succeeded', 0.5, 5);
    await load('normal', 100_000, 12, 0.1);
    const { firing } = await evaluate();
    expect(firing).toEqual(['sync_error_rate']); // s3, s5 and s6: 3 of the last 7 did not succeed
  });
});
