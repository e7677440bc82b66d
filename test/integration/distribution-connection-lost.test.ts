// The distribution export when its database connection dies mid-run (pg_terminate_backend on real PostgreSQL): the
// activity fails instead of waiting forever, nothing half-written is left, and the retry writes files that agree with
// the master and the run record. And an export that stops moving stops heartbeating, so Temporal can time it out.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDistributionActivities } from '../../activities/distribution';
import type { DistributionRunStore, DistributionSnapshot } from '../../src/db/distribution-runs';
import type { Database } from '../../src/db/types';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/log/logger';
import { masterRecords, toJsonArray } from '../support/instrument-files';
import { mockActivityEnv, runActivity, startSyncHarness, type SyncHarness } from '../support/instrument-sync-steps';
import { checkManifest, readCsv, readJson, type ManifestJson } from '../support/distribution-files';

/** The database with its run store's snapshot replaced by `wrap` (the export hooks of each test). */
function withSnapshotHook(db: Database, wrap: (snapshot: DistributionSnapshot) => DistributionSnapshot): Database {
  const runs = db.distributionRuns;
  const hooked: DistributionRunStore = { ...runs, withSnapshot: (fn) => runs.withSnapshot((s) => fn(wrap(s))) };
  return new Proxy(db, { get: (target, prop, receiver) => (prop === 'distributionRuns' ? hooked : Reflect.get(target, prop, receiver)) });
}

const deliveries = { startDeliveries: async () => [], replayDeliveries: async (ids: string[]) => ids };

describe('distribution export losing its database connection', () => {
  let h: SyncHarness;
  let root: string;
  const master = masterRecords({ equities: 30, indices: 5, futures: 4, options: 60, mcx: 6 });

  beforeAll(async () => {
    h = await startSyncHarness();
    root = path.join(h.temp.path, 'state');
    const file = path.join(h.temp.path, 'master.json');
    fs.writeFileSync(file, toJsonArray(master));
    await h.sync({ file });
  });
  afterAll(async () => h?.close());

  async function claim(acts: ReturnType<typeof createDistributionActivities>, runId: string, businessDate: string) {
    const env = mockActivityEnv({ workflowExecution: { workflowId: `distribution:${runId}`, runId: 'wf-1' } });
    return runActivity(env, acts.claimDistributionRun, {
      runId, businessDate, kind: 'full', suffix: null, trigger: 'cli', submissionId: `sub-${runId}`, workflowId: `distribution:${runId}`, workflowRunId: 'wf-1',
    });
  }

  it('a connection killed between files fails the activity; the retry leaves files, manifest and run record in agreement', async () => {
    let kill = true;
    let files = 0;
    // Every other session of this database is ended (the snapshot's among them) just before the second file's COPY.
    const db = withSnapshotHook(h.db, (s) => ({
      ...s,
      exportInstruments: async (...args) => {
        if (files++ === 1 && kill) {
          kill = false;
          const ended = await h.query<{ n: string }>(
            'SELECT count(*) AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()) t',
          );
          expect(Number(ended[0]!.n)).toBeGreaterThan(0);
        }
        return s.exportInstruments(...args);
      },
    }));
    const acts = createDistributionActivities({ db, log: silentLogger(), config: loadConfig({ REFDATA_STATE_DIR: root }).distribution, deliveries });
    const { directory } = await claim(acts, '20240304', '2024-03-04');

    const first = runActivity(mockActivityEnv(), acts.generateDistributionFiles, { runId: '20240304' });
    await expect(first).rejects.toThrow(/terminat|not queryable|connection|ECONNRESET|EPIPE/i);
    expect(kill).toBe(false);
    // The first file was complete and renamed; nothing partial of the second remains, and no files were recorded.
    expect(fs.readdirSync(directory).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect((await h.db.distributionRuns.getRun('20240304'))!.files).toEqual([]);

    files = 0;
    const written = await runActivity(mockActivityEnv(), acts.generateDistributionFiles, { runId: '20240304' });
    const run = (await h.db.distributionRuns.getRun('20240304'))!;
    expect(run.files).toEqual(written);
    expect(fs.readdirSync(directory).sort()).toEqual(written.map((f) => f.name).sort());
    const manifest = readJson<ManifestJson>(directory, written.find((f) => f.type === 'manifest')!.name);
    expect(manifest).toMatchObject({ run_id: '20240304', submission_id: run.submissionId, watermark: run.watermark });
    checkManifest(directory, manifest);
    const full = readCsv(directory, written.find((f) => f.type === 'full')!.name);
    const active = await h.query<{ instrument_key: string }>('SELECT instrument_key FROM ref.instruments WHERE is_active');
    expect(full.rows.map((r) => r.instrument_key).sort()).toEqual(active.map((r) => r.instrument_key).sort());
    expect(full.rows).toHaveLength(master.length);
  }, 60_000);

  it('an export that stops moving stops heartbeating, so the heartbeat timeout can retry it', async () => {
    let unstick!: (err: Error) => void;
    const stuck = new Promise<never>((_, reject) => (unstick = reject));
    const db = withSnapshotHook(h.db, (s) => ({ ...s, exportInstruments: () => stuck }));
    const acts = createDistributionActivities({
      db, log: silentLogger(), config: loadConfig({ REFDATA_STATE_DIR: root }).distribution, deliveries, exportSilenceLimitMs: 2_000,
    });
    await claim(acts, '20240305', '2024-03-05');
    const env = mockActivityEnv();
    let beats = 0;
    env.on('heartbeat', () => beats++);
    const running = runActivity(env, acts.generateDistributionFiles, { runId: '20240305' });
    running.catch(() => undefined);
    // Within the silence limit the keep-alive beats; past it (the export has not moved since) it must not.
    await new Promise((r) => setTimeout(r, 3_500));
    const beatsWhileQuiet = beats;
    await new Promise((r) => setTimeout(r, 4_000));
    expect(beatsWhileQuiet).toBeGreaterThan(0);
    expect(beats).toBe(beatsWhileQuiet);
    unstick(new Error('test over'));
    await expect(running).rejects.toThrow('test over');
  }, 30_000);
});
