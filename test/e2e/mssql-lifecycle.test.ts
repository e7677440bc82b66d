// The file lifecycle, duplicates and revert end to end on SQL Server (Babelfish in the test run; skipped without
// MSSQL_URL): the same steps file-lifecycle and duplicates-revert-cleanup check on PostgreSQL. A file of its own, as
// one test file's systems share a task queue.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDir, startSystem, type System } from './harness';
import { mssqlIsBabelfish } from '../support/db-targets';
import { signalFileWorkflow } from '../../src/temporal/client';
import type { FileLifecycleResult } from '../../workflows/file-lifecycle';

/**
 * Instrument-like rows without a decimal column: Babelfish 4.3 stores decimals sent through the TDS bulk API wrongly
 * (docs/deployment.md), which SQL Server does not.
 */
function csv(rows: number, from = 1): string {
  const lines = ['instrument_key,symbol,lot_size,expiry,active'];
  for (let i = from; i < from + rows; i++) lines.push(`NSE_EQ|${i},SYM${i},${(i % 9) + 1},2025-0${(i % 9) + 1}-1${i % 10},${i % 2 ? 'true' : 'false'}`);
  return `${lines.join('\n')}\n`;
}

describe.skipIf(!process.env.MSSQL_URL)('files end to end on SQL Server', () => {
  let sys: System;
  beforeAll(async () => {
    sys = await startSystem({ testFile: __filename, database: 'mssql', batchRows: 500 });
  });
  afterAll(async () => sys?.stop());

  async function drop(folder: string, name: string, content: string): Promise<FileLifecycleResult> {
    const file = path.join(sys.dropRoot, folder, name);
    await fs.writeFile(file, content);
    const started = await signalFileWorkflow(sys.client, { dropRoot: sys.dropRoot, filePath: file, stability: sys.stability, skipStability: true });
    if (!('workflowId' in started)) throw new Error(started.ignored);
    return (await sys.client.workflow.getHandle(started.workflowId).result()) as FileLifecycleResult;
  }

  const leaves = [
    { folder: 'reference_data_table/fullload', schema: 'ref' },
    { folder: 'none_reference_data_table/append', schema: 'data' },
  ];
  for (const [i, leaf] of leaves.entries()) {
    it(`from ${leaf.folder}: the rows' values in ${leaf.schema}, the file in processed/, its tracking row`, async () => {
      const name = `airports_${i}_20241201.csv`;
      const result = await drop(leaf.folder, name, csv(1200));
      expect(result.status).toBe('loaded');
      const rec = (await sys.db.getTrackingByPath(path.join(sys.dropRoot, leaf.folder, name)))!;
      expect(rec.status).toBe('loaded');
      expect(rec.rowsLoaded).toBe(1200);
      expect(rec.fileHash).toMatch(/^[0-9a-f]{64}$/);
      const rows = await sys.rows(`SELECT instrument_key, symbol, lot_size, CONVERT(char(10), expiry, 23) AS expiry FROM ${leaf.schema}.airports_${i} WHERE symbol IN ('SYM1', 'SYM1200') ORDER BY lot_size`);
      expect(rows).toEqual([
        { instrument_key: 'NSE_EQ|1', symbol: 'SYM1', lot_size: 2, expiry: '2025-02-11' },
        { instrument_key: 'NSE_EQ|1200', symbol: 'SYM1200', lot_size: 4, expiry: '2025-04-10' },
      ]);
      expect((await listDir(path.join(sys.dropRoot, leaf.folder, 'processed'))).some((f) => f.endsWith(name))).toBe(true);
      const cols = (await sys.db.describeTable({ schema: leaf.schema, name: `airports_${i}` }))!;
      // The dialect's own type names (TableColumn.dataType).
      expect(cols.find((c) => c.name === 'lot_size')?.dataType).toBe('int');
      expect(cols.find((c) => c.name === 'expiry')?.dataType).toBe('date');
    });
  }

  it('the same content again is archived as a duplicate naming the first load; new content appends', async () => {
    const first = await drop('none_reference_data_table/append', 'fills_20241201.csv', csv(40));
    expect(first.status).toBe('loaded');
    const again = await drop('none_reference_data_table/append', 'fills_20241202.csv', csv(40));
    expect(again.status).toBe('duplicate');
    expect(again.loadId).toBe(first.loadId);
    expect(await sys.db.countRows({ schema: 'data', name: 'fills' })).toBe(40);
    // Keys no longer than the first file's: a longer text value does not fit the column sized from the first
    // file's sample on SQL Server (a defect this suite found, not yet fixed: see the branch's report).
    expect((await drop('none_reference_data_table/append', 'fills_20241203.csv', csv(41))).status).toBe('loaded');
    expect(await sys.db.countRows({ schema: 'data', name: 'fills' })).toBe(81);
  });

  // Reverting a fullload swaps tables with ALTER SCHEMA … TRANSFER, which Babelfish 4.3 refuses (docs/deployment.md).
  it.skipIf(mssqlIsBabelfish())('a fullload reverted through the API brings the previous contents back; an append reverted removes its rows', async () => {
    await drop('reference_data_table/fullload', 'venues_20241201.csv', csv(10));
    const second = await drop('reference_data_table/fullload', 'venues_20241202.csv', csv(3, 50));
    expect(await sys.db.countRows({ schema: 'ref', name: 'venues' })).toBe(3);
    const auth = { authorization: `Bearer ${sys.adminKey}` };
    const res = await sys.api.inject({ method: 'POST', url: `/api/v1/loads/${second.loadId}/revert`, headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('reverted');
    expect((await sys.rows('SELECT symbol FROM ref.venues ORDER BY instrument_key')).map((r) => r.symbol)).toHaveLength(10);

    const added = await drop('none_reference_data_table/append', 'fills_20241204.csv', csv(5, 42));
    expect(await sys.db.countRows({ schema: 'data', name: 'fills' })).toBe(86);
    expect((await sys.api.inject({ method: 'POST', url: `/api/v1/loads/${added.loadId}/revert`, headers: auth })).statusCode).toBe(200);
    expect(await sys.db.countRows({ schema: 'data', name: 'fills' })).toBe(81);
  });
});
