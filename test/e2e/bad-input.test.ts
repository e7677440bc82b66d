// Bad input, each: a clear error, an error/ report, nothing loaded, and the system keeps going. Hostile but valid
// input (SQL in header names, long names) loads safely.
import fs from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropAndRun, instrumentCsv, listDir, startSystem, type System } from './harness';

let sys: System;
beforeAll(async () => {
  sys = await startSystem({ testFile: __filename, database: 'postgres', batchRows: 500 });
});
afterAll(async () => sys?.stop());

const run = (folder: string, name: string, content: string | Buffer) => dropAndRun(sys, folder, name, content);

async function reportFor(file: string): Promise<{ category: string; message: string; details: { code?: string } | null }> {
  const dir = path.join(path.dirname(file), 'error');
  const name = (await listDir(dir)).find((n) => n.endsWith(`${path.basename(file).slice(0, 170)}.error.json`));
  expect(name, `error report for ${path.basename(file)}`).toBeDefined();
  return JSON.parse(await fs.readFile(path.join(dir, name!), 'utf8'));
}

const header = 'code,name,qty\n';
const bad: Array<[string, string | Buffer, RegExp, string?]> = [
  ['empty.csv', '', /empty|0 bytes/i],
  ['header_only.csv', header, /header|no data/i],
  ['binary.csv', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)), /binary|not text|encoding/i],
  ['nul_bytes.csv', Buffer.concat([Buffer.from(header), Buffer.from('a,b\u0000c,1\n'.repeat(50))]), /NUL|binary/i],
  ['unterminated.csv', `${header}a,"never closed,1\nb,c,2\n`, /quot/i],
  ['gzipped.csv', zlib.gzipSync(instrumentCsv(50)), /gzip|compressed/i],
  ['five_thousand_columns.csv', `${Array.from({ length: 5000 }, (_, i) => `c${i}`).join(',')}\n${Array.from({ length: 5000 }, () => '1').join(',')}\n`, /column/i],
  ['giant_field.csv', `${header}a,"${'x'.repeat(20 * 1024 * 1024)}",1\n`, /larger|longer|too large|field/i],
  ['ragged_many.csv', `${header}${'a,b\n'.repeat(20)}`, /fields|ragged|header has/i],
  // UTF-8 and Latin-1 in the first MiB the planner reads; then a Latin-1 byte only after it, which the loader finds.
  ['mixed_encodings.csv', Buffer.concat([Buffer.from(`${header}a,Zürich,1\nb,São Paulo,2\n`, 'utf8'), Buffer.from('c,Malmö,3\n', 'latin1')]), /mixes encodings/i],
  ['mixed_late.csv', Buffer.concat([Buffer.from(`${header}${'a,Zürich,1\n'.repeat(100_000)}`, 'utf8'), Buffer.from('c,Malmö,3\n', 'latin1')]), /mixes encodings/i],
];

describe('bad input', () => {
  for (const [name, content, message] of bad) {
    it(`${name}: rejected with a clear error, report in error/, no table`, async () => {
      const { result, error, file } = await run('none_reference_data_table/fullload', name, content);
      expect(result).toBeNull();
      expect(error).toMatch(message);
      const report = await reportFor(file);
      expect(report.category).toBe('InvalidFile');
      expect(report.message).toMatch(message);
      const table = name.replace(/\.csv$/, '');
      expect(await sys.db.describeTable({ schema: 'data', name: table })).toBeNull();
      expect((await sys.db.getTrackingByPath(file))?.status).toBe('error');
    });
  }

  it('a type error deep in an append file under reject-file policy removes every committed batch', async () => {
    // Past the 1 MiB planning sample, so the column was planned as integer and only the load finds the bad value.
    const lines = instrumentCsv(30_000).split('\n');
    lines[25_000] = lines[25_000].replace(/,\d+,0\.\d\d,/, ',many,0.05,');
    const { error, result } = await run('none_reference_data_table/append', 'late_type_error.csv', lines.join('\n'));
    expect(result).toBeNull();
    expect(error).toMatch(/row 25000 \(line 25001\), column lot_size/);
    expect(await sys.db.countRows({ schema: 'data', name: 'late_type_error' })).toBe(0);
  });

  it('the worker keeps going after all of that', async () => {
    const { result } = await run('none_reference_data_table/fullload', 'after_bad_input.csv', instrumentCsv(10));
    expect(result?.status).toBe('loaded');
  });
});

describe('hostile but valid names load safely', () => {
  it('SQL in header names, duplicates, reserved words and 200-character names become safe, distinct columns', async () => {
    const headers = ['"a""; DROP TABLE ref.loads; --"', '[select]', 'order', 'order', 'x'.repeat(200), 'Name With Spaces'];
    const csv = `${headers.join(',')}\n1,2,3,4,5,6\n7,8,9,10,11,12\n`;
    const { result } = await run('none_reference_data_table/fullload', 'hostile_headers.csv', csv);
    expect(result?.status).toBe('loaded');
    const cols = (await sys.db.describeTable({ schema: 'data', name: 'hostile_headers' }))!.map((c) => c.name);
    expect(new Set(cols).size).toBe(cols.length);
    expect(cols.every((c) => /^[a-z0-9_]{1,63}$/.test(c))).toBe(true);
    expect(await sys.db.countRows({ schema: 'data', name: 'hostile_headers' })).toBe(2);
    expect(await sys.db.describeTable({ schema: 'ref', name: 'loads' })).not.toBeNull();
  });

  it('a 250-character file name loads into a table name of at most 63 characters and archives under a short name', async () => {
    const name = `${'very_long_name_'.repeat(16).slice(0, 246)}.csv`;
    const { result } = await run('none_reference_data_table/append', name, instrumentCsv(5));
    expect(result?.status).toBe('loaded');
    expect(result!.table!.length).toBeLessThanOrEqual(63);
    expect(path.basename(result!.archivedTo!).length).toBeLessThanOrEqual(200);
  });

  it('a file whose name would be one of refdata\'s own tables is refused', async () => {
    const { error, file } = await run('reference_data_table/fullload', 'loads.csv', instrumentCsv(5));
    expect(error).toMatch(/belongs to refdata/);
    expect((await reportFor(file)).category).toBe('ReservedTable');
  });
});
