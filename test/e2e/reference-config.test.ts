// Reference config maintenance beyond the CLI: the API reports and repairs ref.reference_data_cfg, and the
// referenceConfigCheck workflow (started by its schedule) validates, repairs and reports what remains — on a real
// Temporal server, worker and database (PostgreSQL, and SQL Server when MSSQL_URL is set).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduleIds, taskQueues } from '../../src/ids';
import { loadConfig } from '../../src/config';
import { processNotifier } from '../../src/notify/notifier';
import { applySchedules, scheduleSpecs } from '../../src/temporal/schedules';
import type { ReferenceConfigCheckResult } from '../../activities/reference-config';
import { dropAndRun, instrumentCsv, startSystem, waitFor, type System } from './harness';

const targets = [
  { database: 'postgres' as const, skip: false },
  { database: 'mssql' as const, skip: !process.env.MSSQL_URL },
];

describe.each(targets)('reference config maintenance on $database', ({ database, skip }) => {
  let sys: System;
  const auth = () => ({ authorization: `Bearer ${sys.adminKey}` });

  beforeAll(async () => {
    if (skip) return;
    sys = await startSystem({ testFile: __filename, database });
    const loaded = await dropAndRun(sys, 'reference_data_table/fullload', 'venues_20250101.csv', instrumentCsv(5));
    expect(loaded.error).toBeNull();
  }, 180_000);
  afterAll(async () => {
    await sys?.client.schedule.getHandle(scheduleIds.referenceConfigCheck).delete().catch(() => undefined);
    await sys?.stop();
  });

  /** An orphan (a row for a table that does not exist) and a missing row (venues lost its row). */
  async function breakConfig(): Promise<void> {
    await sys.rows(`DELETE FROM ref.reference_data_cfg WHERE table_name = 'venues'`);
    await sys.rows(`DELETE FROM ref.reference_data_cfg WHERE table_name = 'ghost_table'`);
    await sys.rows(`INSERT INTO ref.reference_data_cfg (schema_name, table_name, source_file, load_type) VALUES ('ref', 'ghost_table', '/gone/ghost.csv', 'fullload')`);
  }
  async function configRows(): Promise<Record<string, { active: boolean; source: string }>> {
    const rows = await sys.rows(`SELECT table_name, is_active, source_file FROM ref.reference_data_cfg WHERE table_name IN ('venues', 'ghost_table')`);
    return Object.fromEntries(rows.map((r) => [String(r.table_name), { active: Boolean(r.is_active), source: String(r.source_file) }]));
  }

  it.skipIf(skip)('GET /problems names them without changing anything; POST /repair fixes them, and a second repair finds nothing', async () => {
    await breakConfig();
    const problems = await sys.api.inject({ method: 'GET', url: '/api/v1/reference-config/problems', headers: auth() });
    expect(problems.statusCode, problems.body).toBe(200);
    expect((problems.json() as { problems: { kind: string; table: { name: string } }[] }).problems.map((p) => `${p.kind}:${p.table.name}`).sort())
      .toEqual(['missing:venues', 'orphan:ghost_table']);
    expect(await configRows()).toEqual({ ghost_table: { active: true, source: '/gone/ghost.csv' } });

    const repaired = await sys.api.inject({ method: 'POST', url: '/api/v1/reference-config/repair', headers: auth() });
    expect(repaired.statusCode, repaired.body).toBe(200);
    const body = repaired.json() as { found: unknown[]; repaired: string[]; remaining: unknown[] };
    expect(body.found).toHaveLength(2);
    expect(body.repaired).toHaveLength(2);
    expect(body.remaining).toEqual([]);
    const rows = await configRows();
    expect(rows.ghost_table).toEqual({ active: false, source: '/gone/ghost.csv' });
    expect(rows.venues!.active).toBe(true);
    expect(rows.venues!.source).toMatch(/venues_20250101\.csv$/);

    const again = await sys.api.inject({ method: 'POST', url: '/api/v1/reference-config/repair', headers: auth() });
    expect(again.json()).toEqual({ found: [], repaired: [], remaining: [] });
  });

  it.skipIf(skip)('the workflow without repair reports what it found and notifies operators; the table is left as it was', async () => {
    await breakConfig();
    const result = (await sys.client.workflow.execute('referenceConfigCheck', {
      taskQueue: taskQueues.ingest, workflowId: `config-check-report-${Date.now()}`, args: [{ repair: false }],
    })) as ReferenceConfigCheckResult;
    expect(result.found).toBe(2);
    expect(result.repaired).toEqual([]);
    expect(result.remaining.map((p) => `${p.kind}:${p.table.name}`).sort()).toEqual(['missing:venues', 'orphan:ghost_table']);
    expect(await configRows()).toEqual({ ghost_table: { active: true, source: '/gone/ghost.csv' } });
    const note = processNotifier().recent().find((n) => n.kind === 'config.problems' && n.message.includes('orphan ref.ghost_table'));
    expect(note).toMatchObject({ severity: 'warning', title: 'Reference config: 2 problems' });
    expect(note!.message).toMatch(/missing ref\.venues/);
  });

  it.skipIf(skip)('its schedule (repair on by default) repairs the config when it fires', async () => {
    const spec = scheduleSpecs(loadConfig({})).find((s) => s.scheduleId === scheduleIds.referenceConfigCheck);
    expect(spec).toMatchObject({ workflowType: 'referenceConfigCheck', taskQueue: 'ingest', cron: '45 2 * * *', timeZone: 'UTC', args: [{ repair: true }] });
    await applySchedules(sys.client, [spec!]);
    await sys.client.schedule.getHandle(scheduleIds.referenceConfigCheck).trigger();
    const rows = await waitFor('the scheduled check to repair the config', async () => {
      const r = await configRows();
      return r.venues?.active && r.ghost_table?.active === false ? r : null;
    });
    expect(rows.venues!.source).toMatch(/venues_20250101\.csv$/);
  });
});
