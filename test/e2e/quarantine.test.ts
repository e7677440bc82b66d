// The quarantine policy: invalid rows go to ref.invalid_records with their reasons, the rest load; too many fail the file.
// On PostgreSQL, and on SQL Server when MSSQL_URL is set (one system at a time: they share this file's task queue).
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentCsv, startSystem, type System } from './harness';
import { signalFileWorkflow } from '../../src/temporal/client';
import type { FileLifecycleResult } from '../../workflows/file-lifecycle';

let sys: System;

async function load(name: string, badRows: number[]): Promise<{ result: FileLifecycleResult | null; error: string | null }> {
  // The 1 MiB planning sample ends near row 21,000: bad values after it reach the loader, not the planner.
  const lines = instrumentCsv(30_000).split('\n');
  for (const r of badRows) lines[r] = lines[r].replace(/,(\d{4}-\d\d-\d\d),/, ',not-a-date,');
  const file = path.join(sys.dropRoot, 'none_reference_data_table/append', name);
  await fs.writeFile(file, lines.join('\n'));
  const started = await signalFileWorkflow(sys.client, { dropRoot: sys.dropRoot, filePath: file, stability: sys.stability, skipStability: true });
  if (!('workflowId' in started)) throw new Error(started.ignored);
  try {
    return { result: (await sys.client.workflow.getHandle(started.workflowId).result()) as FileLifecycleResult, error: null };
  } catch (err) {
    return { result: null, error: (err as { cause?: Error }).cause?.message ?? String(err) };
  }
}

const dialects = [
  { database: 'postgres' as const, skip: false },
  { database: 'mssql' as const, skip: !process.env.MSSQL_URL },
];

for (const dialect of dialects) describe.skipIf(dialect.skip)(`quarantine policy on ${dialect.database}`, () => {
  beforeAll(async () => {
    sys = await startSystem({
      testFile: __filename, database: dialect.database, batchRows: 5000,
      invalidRows: { fullload: 'reject-file', append: 'quarantine', tables: {}, maxErrorRatio: 0.01 },
    });
  });
  afterAll(async () => sys?.stop());

  it('loads the good rows and keeps each invalid one with its row number, raw text and reason', async () => {
    const { result } = await load('quarantined_trades.csv', [26_000, 29_500]);
    expect(result?.status).toBe('loaded');
    expect(result?.rows).toBe(29_998);
    expect(await sys.db.countRows({ schema: 'data', name: 'quarantined_trades' })).toBe(29_998);
    // Double quotes name a column in both dialects.
    const rows = await sys.rows(
      `SELECT "row_number", raw_text, errors, source_ref FROM ref.invalid_records WHERE record_id LIKE '%quarantined_trades.csv' ORDER BY "row_number"`,
    );
    expect(rows.map((r) => Number(r.row_number))).toEqual([26_000, 29_500]);
    expect(rows[0]!.raw_text).toContain('not-a-date');
    expect(JSON.parse(String(rows[0]!.errors))[0]).toMatch(/column expiry/);
    expect(rows[0]!.source_ref).toBe(result?.loadId);
  });

  it('rejects the whole file when more than the allowed share of rows is invalid, and keeps none of its invalid rows', async () => {
    const bad = Array.from({ length: 400 }, (_, i) => 22_000 + i * 10);
    const { result, error } = await load('too_many_bad.csv', bad);
    expect(result).toBeNull();
    expect(error).toMatch(/rows are invalid, more than the allowed 1%/);
    expect(await sys.db.countRows({ schema: 'data', name: 'too_many_bad' })).toBe(0);
  });
});

