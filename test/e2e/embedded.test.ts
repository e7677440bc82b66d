// The same dropped-file path on the embedded PostgreSQL server, opened as `npm start` opens it without DATABASE_URL.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentCsv, listDir, startSystem, waitFor, type System } from './harness';

let sys: System;

beforeAll(async () => {
  sys = await startSystem({ testFile: __filename, database: 'embedded', batchRows: 500 });
  await sys.watch();
});
afterAll(async () => sys?.stop());

async function settled(filePath: string) {
  return waitFor(`${path.basename(filePath)} to settle`, async () => {
    const rec = await sys.db.getTrackingByPath(filePath);
    return rec && ['loaded', 'error'].includes(rec.status) ? rec : null;
  });
}

describe('embedded database', () => {
  it('loads a fullload file, then a second fullload replaces it and keeps the first in bkp', async () => {
    const dir = path.join(sys.dropRoot, 'reference_data_table/fullload');
    const first = path.join(dir, 'exchanges_20241201.csv');
    await fs.writeFile(first, instrumentCsv(1200));
    expect((await settled(first)).status).toBe('loaded');
    expect(await sys.db.countRows({ schema: 'ref', name: 'exchanges' })).toBe(1200);

    const second = path.join(dir, 'exchanges_20241202.csv');
    await fs.writeFile(second, instrumentCsv(7));
    expect((await settled(second)).status).toBe('loaded');
    expect(await sys.db.countRows({ schema: 'ref', name: 'exchanges' })).toBe(7);
    expect((await listDir(path.join(dir, 'processed'))).length).toBe(2);
  });

  it('appends two files into one table', async () => {
    const dir = path.join(sys.dropRoot, 'none_reference_data_table/append');
    for (const [i, rows] of [[1, 300], [2, 450]] as const) {
      const f = path.join(dir, `trades_2024-12-0${i}.csv`);
      await fs.writeFile(f, instrumentCsv(rows, { delimiter: ';' }));
      const rec = await settled(f);
      expect(rec.errorMessage).toBeNull();
      expect(rec.status).toBe('loaded');
    }
    expect(await sys.db.countRows({ schema: 'data', name: 'trades' })).toBe(750);
  });

  it('a bad file leaves no rows and lands in error/ with a report', async () => {
    const dir = path.join(sys.dropRoot, 'none_reference_data_table/fullload');
    const f = path.join(dir, 'broken.csv');
    const lines = instrumentCsv(1000).split('\n');
    lines[800] = 'only,three,fields';
    await fs.writeFile(f, lines.join('\n'));
    const rec = await settled(f);
    expect(rec.status).toBe('error');
    expect(await sys.db.describeTable({ schema: 'data', name: 'broken' })).toBeNull();
    expect((await listDir(path.join(dir, 'error'))).some((n) => n.endsWith('broken.csv.error.json'))).toBe(true);
  });
});
