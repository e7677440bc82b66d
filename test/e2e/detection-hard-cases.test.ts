// The detection cases that used to go wrong, through `refdata plan` (planFile on the real file) and the whole workflow
// (real dev server and PostgreSQL): numbers as column names, headerless files that start with words, terminal escape
// sequences in values load with their values read back; HTML pages and broken UTF-8 byte-order marks are refused with
// a specific code, the file in error/ beside its report, and no table left behind.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'pg';
import { planFile } from '../../activities/plan';
import { dropAndRun, listDir, startSystem, type System } from './harness';

let sys: System;
let pg: Client;
let scratch: string;
beforeAll(async () => {
  sys = await startSystem({
    testFile: __filename, database: 'postgres', batchRows: 500,
    invalidRows: { fullload: 'reject-file', append: 'quarantine', tables: {}, maxErrorRatio: 0.01 },
  });
  pg = new Client({ connectionString: sys.dbUrl! });
  await pg.connect();
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'refdata-detection-'));
});
afterAll(async () => {
  await pg?.end();
  await sys?.stop();
  if (scratch) await fs.rm(scratch, { recursive: true, force: true });
});

const FOLDER = 'none_reference_data_table/fullload';
const ESC = '\u001b';

/** What `refdata plan` says about the file, read from disk like the CLI does. */
async function planOf(name: string, content: string | Buffer) {
  const file = path.join(scratch, name);
  await fs.writeFile(file, content);
  return planFile({ filePath: file, loadType: 'fullload', referenceData: false }, null);
}

async function readBack(table: string): Promise<{ columns: string[]; rows: (string | null)[][] }> {
  const cols = (await sys.db.describeTable({ schema: 'data', name: table }))!.filter((c) => c.name !== 'refdata_load_id');
  const res = await pg.query<(string | null)[]>({
    text: `SELECT ${cols.map((c) => `"${c.name}"::text`).join(', ')} FROM data."${table}" ORDER BY 1`,
    rowMode: 'array',
  });
  return { columns: cols.map((c) => `${c.name}:${c.dataType}`), rows: res.rows };
}

async function reportFor(file: string): Promise<{ category: string; message: string; details: { code?: string; row?: number; line?: number } | null }> {
  const dir = path.join(path.dirname(file), 'error');
  const name = (await listDir(dir)).find((n) => n.endsWith(`${path.basename(file)}.error.json`));
  expect(name, `error report for ${path.basename(file)}`).toBeDefined();
  expect((await listDir(dir)).some((n) => n.endsWith(path.basename(file)) && !n.endsWith('.json')), 'the file itself in error/').toBe(true);
  return JSON.parse(await fs.readFile(path.join(dir, name!), 'utf8'));
}

const loads: Array<{ name: string; content: string; hasHeader: boolean; columns: string[]; rows: (string | null)[][] }> = [
  {
    name: 'fx_reserves.csv', content: 'economy,2017,2018,2019,2020\nAruba,1.25,1.5,1.75,2.0\nBhutan,0.5,0.75,1.0,1.25\nCuba,3.0,3.25,3.5,3.75\n', hasHeader: true,
    columns: ['economy:text', 'c_2017:numeric', 'c_2018:numeric', 'c_2019:numeric', 'c_2020:numeric'],
    rows: [['Aruba', '1.25', '1.5', '1.75', '2.0'], ['Bhutan', '0.5', '0.75', '1.0', '1.25'], ['Cuba', '3.0', '3.25', '3.5', '3.75']],
  },
  {
    // Same kind and width as the figures beneath: only the series of years tells the header.
    name: 'units_built.csv', content: 'yard;2001;2002;2003\nY1;1402;1533;1498\nY2;2210;2187;2301\nY3;1776;1802;1850\n', hasHeader: true,
    columns: ['yard:text', 'c_2001:integer', 'c_2002:integer', 'c_2003:integer'],
    rows: [['Y1', '1402', '1533', '1498'], ['Y2', '2210', '2187', '2301'], ['Y3', '1776', '1802', '1850']],
  },
  {
    name: 'gl_balances.csv', content: 'branch\t6100\t6200\t6300\nLeeds\t101.10\t202.20\t303.30\nYork\t11.00\t22.50\t33.75\nHull\t0.99\t1.99\t2.99\n', hasHeader: true,
    columns: ['branch:text', 'c_6100:numeric', 'c_6200:numeric', 'c_6300:numeric'],
    rows: [['Hull', '0.99', '1.99', '2.99'], ['Leeds', '101.10', '202.20', '303.30'], ['York', '11.00', '22.50', '33.75']],
  },
  {
    name: 'nav_month_end.csv', content: 'fund,2023-01-31,2023-02-28,2023-03-31\nAlpha,10,11,12\nBeta,20,19,21\nGamma,30,33,31\n', hasHeader: true,
    columns: ['fund:text', 'c_2023_01_31:integer', 'c_2023_02_28:integer', 'c_2023_03_31:integer'],
    rows: [['Alpha', '10', '11', '12'], ['Beta', '20', '19', '21'], ['Gamma', '30', '33', '31']],
  },
  {
    // Headerless: its first row is words (the figure is missing), but it is one more row of codes and names.
    name: 'depots.csv', content: 'VNO,Rasa Petraitis,North,\nRIX,Janis Berzins-Ozols,South,12.50\nTLL,Kai Tamm,East,7.25\nKUN,Ona Vaitkute,West,3.00\n', hasHeader: false,
    columns: ['column_1:text', 'column_2:text', 'column_3:text', 'column_4:numeric'],
    rows: [['KUN', 'Ona Vaitkute', 'West', '3.00'], ['RIX', 'Janis Berzins-Ozols', 'South', '12.50'], ['TLL', 'Kai Tamm', 'East', '7.25'], ['VNO', 'Rasa Petraitis', 'North', null]],
  },
  {
    name: 'job_status.csv', content: `job,status,note\nbackup,${ESC}[31mFAILED${ESC}[0m,${ESC}[1mdisk full${ESC}[0m\nreindex,${ESC}[32mOK${ESC}[0m,${ESC}[2K${ESC}[1Gdone\n`, hasHeader: true,
    columns: ['job:text', 'status:text', 'note:text'],
    rows: [['backup', `${ESC}[31mFAILED${ESC}[0m`, `${ESC}[1mdisk full${ESC}[0m`], ['reindex', `${ESC}[32mOK${ESC}[0m`, `${ESC}[2K${ESC}[1Gdone`]],
  },
  {
    // A date to convert sends the rows through the row-by-row loader instead of COPY: the codes survive it too.
    name: 'job_runs.csv', content: `run,day,result\n1,15-Feb-2024,${ESC}[33mWARN${ESC}[0m\n2,16-Feb-2024,"${ESC}]8;;https://ci.test/2\u0007log${ESC}]8;;\u0007"\n`, hasHeader: true,
    columns: ['run:integer', 'day:date', 'result:text'],
    rows: [['1', '2024-02-15', `${ESC}[33mWARN${ESC}[0m`], ['2', '2024-02-16', `${ESC}]8;;https://ci.test/2\u0007log${ESC}]8;;\u0007`]],
  },
];

describe('hard detection cases that load', () => {
  for (const c of loads) {
    it(`${c.name}: planned and loaded with every value as written`, async () => {
      const plan = await planOf(c.name, c.content);
      expect(plan.hasHeader).toBe(c.hasHeader);
      expect(plan.rowCountEstimate).toBe(c.rows.length);
      const { result, error } = await dropAndRun(sys, FOLDER, c.name, c.content);
      expect(error).toBeNull();
      expect(result).toMatchObject({ status: 'loaded', rows: c.rows.length });
      expect(await readBack(c.name.replace(/\.csv$/, ''))).toEqual({ columns: c.columns, rows: c.rows });
    });
  }
});

const bom = Buffer.from([0xef, 0xbb, 0xbf]);
const asciiRows = (n: number, row: (i: number) => string) => Array.from({ length: n }, (_, i) => row(i)).join('');
const refused: Array<{ name: string; content: string | Buffer; code: string; message: RegExp; row?: number; planned?: boolean }> = [
  { name: 'quotes_20241203.csv', content: '<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<h1>504 Gateway Time-out</h1>\r\n</body>\r\n</html>\r\n', code: 'HTML_PAGE', message: /is an HTML page/ },
  { name: 'holdings.csv', content: '\uFEFF<!DOCTYPE html>\n<html><head><title>Session expired</title></head><body><p>Please sign in, then retry.</p></body></html>\n', code: 'HTML_PAGE', message: /is an HTML page/ },
  {
    name: 'bom_then_cp1252.csv', content: Buffer.concat([bom, Buffer.from('id,city\n1,Oslo\n2,Bergen\n'), iconv.encode('3,Besançon\n4,Orléans\n', 'win1252')]),
    code: 'BOM_MISMATCH', message: /starts with a UTF-8 byte-order mark, but row 3 \(line 4\) has bytes that are not UTF-8 \(they look like Windows-1252\)/, row: 3,
  },
  {
    // Past the planner's 1 MiB sample: the loader (COPY) finds the byte and its row.
    name: 'bom_late_cp1252.csv', content: Buffer.concat([bom, Buffer.from(`id,city\n${asciiRows(100_000, (i) => `${i},Plain City\n`)}`), iconv.encode('100000,Besançon\n', 'win1252')]),
    code: 'BOM_MISMATCH', message: /starts with a UTF-8 byte-order mark, but row 100001 has bytes that are not UTF-8/, row: 100_001, planned: true,
  },
  {
    // Past the sample again, in a file whose dates send every row through the row-by-row loader.
    name: 'bom_late_cp1252_rows.csv', content: Buffer.concat([bom, Buffer.from(`id,day\n${asciiRows(60_200, (i) => `${i},15-Feb-2024\n`)}`), iconv.encode('60200,15-Fév-2024\n', 'win1252')]),
    code: 'BOM_MISMATCH', message: /starts with a UTF-8 byte-order mark, but row 60201 has bytes that are not UTF-8/, row: 60_201, planned: true,
  },
  { name: 'esc_and_nul.csv', content: `a,b\n1,${ESC}[31mred${ESC}[0m\n2,x\u0000y\n`, code: 'BINARY_CONTENT', message: /binary data/ },
];

describe('hard detection cases that are refused', () => {
  for (const c of refused) {
    it(`${c.name}: ${c.code}, file and report in error/, no table`, async () => {
      if (c.planned) expect((await planOf(c.name, c.content)).encoding).toBe('utf-8-bom');
      else await expect(planOf(c.name, c.content)).rejects.toMatchObject({ type: 'InvalidFile', nonRetryable: true, message: expect.stringMatching(c.message) });
      const { result, error, file } = await dropAndRun(sys, FOLDER, c.name, c.content);
      expect(result).toBeNull();
      expect(error).toMatch(c.message);
      const report = await reportFor(file);
      expect(report).toMatchObject({ category: 'InvalidFile', details: { code: c.code, ...(c.row ? { row: c.row } : {}) } });
      expect(await sys.db.describeTable({ schema: 'data', name: c.name.replace(/\.csv$/, '').replace(/_\d{8}$/, '') })).toBeNull();
    });
  }
});
