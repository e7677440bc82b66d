// Real-world CSV quirks through the whole pipeline (plan, COPY fast path or row by row, swap-in): each file either
// loads with the values read back exactly as a person reading the file would, or fails with a specific error, its
// report in error/ and no table left behind.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'pg';
import { dropAndRun, listDir, startSystem, type System } from './harness';
import { singleByteEncodingAfter } from '../../src/record-stream';

let sys: System;
let pg: Client;
beforeAll(async () => {
  sys = await startSystem({
    testFile: __filename, database: 'postgres', batchRows: 500,
    // The production defaults.
    invalidRows: { fullload: 'reject-file', append: 'quarantine', tables: {}, maxErrorRatio: 0.01 },
  });
  pg = new Client({ connectionString: sys.dbUrl! });
  await pg.connect();
});
afterAll(async () => {
  await pg?.end();
  await sys?.stop();
});

const run = (folder: string, name: string, content: string | Buffer) => dropAndRun(sys, folder, name, content);

/** Column name:type pairs and every row as text, ordered by the first column. */
async function readBack(table: string): Promise<{ columns: string[]; rows: (string | null)[][] }> {
  const cols = (await sys.db.describeTable({ schema: 'data', name: table }))!.filter((c) => c.name !== 'refdata_load_id');
  const res = await pg.query<(string | null)[]>({
    text: `SELECT ${cols.map((c) => `"${c.name}"::text`).join(', ')} FROM data."${table}" ORDER BY 1`,
    rowMode: 'array',
  });
  return { columns: cols.map((c) => `${c.name}:${c.dataType}`), rows: res.rows };
}

const latin1 = (s: string) => Buffer.from(s, 'latin1');
const longValue = 'x'.repeat(100 * 1024);
const manyRows = (n: number, descr: (i: number) => string) => `id,descr,qty\n${Array.from({ length: n }, (_, i) => `${i},${descr(i)},${i}`).join('\n')}\n`;

const loads: Array<{ name: string; content: string | Buffer; columns: string[]; rows: (string | null)[][] }> = [
  {
    name: 'bom_crlf.csv', content: '\uFEFFcode,name,qty\r\nA,Alpha,1\r\nB,Beta,2\r\n',
    columns: ['code:text', 'name:text', 'qty:integer'], rows: [['A', 'Alpha', '1'], ['B', 'Beta', '2']],
  },
  {
    name: 'bom_quoted_header.csv', content: '\uFEFF"code","name","qty"\r\n"A","Alpha","1"\r\n"B","Beta","2"\r\n',
    columns: ['code:text', 'name:text', 'qty:integer'], rows: [['A', 'Alpha', '1'], ['B', 'Beta', '2']],
  },
  {
    // Decimal commas are not guessed at: the column stays text, exactly as written.
    name: 'semicolons.csv', content: 'code;name;price\nA;Alpha, Inc;1,5\nB;Beta;2,25\n',
    columns: ['code:text', 'name:text', 'price:text'], rows: [['A', 'Alpha, Inc', '1,5'], ['B', 'Beta', '2,25']],
  },
  {
    name: 'excel_sep_hint.csv', content: 'sep=;\r\ncode;qty\r\nA;1\r\nB;2\r\n',
    columns: ['code:text', 'qty:integer'], rows: [['A', '1'], ['B', '2']],
  },
  {
    name: 'tabs.csv', content: 'code\tname\tqty\nA\tAlpha One\t1\nB\tBeta, Two\t2\n',
    columns: ['code:text', 'name:text', 'qty:integer'], rows: [['A', 'Alpha One', '1'], ['B', 'Beta, Two', '2']],
  },
  {
    name: 'embedded_breaks.csv', content: 'id,comment,qty\r\n1,"line one\nline two\r\nline three",5\r\n2,"he said ""hi""",6\r\n3,plain,7\r\n',
    columns: ['id:integer', 'comment:text', 'qty:integer'], rows: [['1', 'line one\nline two\r\nline three', '5'], ['2', 'he said "hi"', '6'], ['3', 'plain', '7']],
  },
  {
    // Inch marks: COPY would read each as the start of a quoted section and merge rows 1 and 2 into one.
    name: 'inch_marks.csv', content: 'id,descr,qty\n1,12" ruler,5\n2,6" ruler,3\n3,pen,1\n',
    columns: ['id:integer', 'descr:text', 'qty:integer'], rows: [['1', '12" ruler', '5'], ['2', '6" ruler', '3'], ['3', 'pen', '1']],
  },
  {
    name: 'inch_marks_one_line.csv', content: 'id,descr,qty\n1,12" x 6" board,5\n2,pen,3\n',
    columns: ['id:integer', 'descr:text', 'qty:integer'], rows: [['1', '12" x 6" board', '5'], ['2', 'pen', '3']],
  },
  {
    name: 'inch_mark_once.csv', content: 'id,descr,qty\n1,12" ruler,5\n2,pen,3\n3,pencil,1\n',
    columns: ['id:integer', 'descr:text', 'qty:integer'], rows: [['1', '12" ruler', '5'], ['2', 'pen', '3'], ['3', 'pencil', '1']],
  },
  {
    name: 'odd_headers.csv', content: ' Code , Full Name,QTY,qty,,Price (EUR)\nA,Alpha,1,2,x,3.5\nB,Beta,3,4,y,4.25\n',
    columns: ['code:text', 'full_name:text', 'qty:integer', 'qty_2:integer', 'column_5:text', 'price_eur:numeric'],
    rows: [['A', 'Alpha', '1', '2', 'x', '3.5'], ['B', 'Beta', '3', '4', 'y', '4.25']],
  },
  {
    name: 'trailing_delimiter.csv', content: 'a,b,c,\n1,x,3,\n4,y,6,\n',
    columns: ['a:integer', 'b:text', 'c:integer'], rows: [['1', 'x', '3'], ['4', 'y', '6']],
  },
  {
    name: 'trailing_delimiter_crlf.csv', content: 'a;b;c;\r\n1;x;2024-01-02;\r\n4;y;2024-03-04;\r\n',
    columns: ['a:integer', 'b:text', 'c:date'], rows: [['1', 'x', '2024-01-02'], ['4', 'y', '2024-03-04']],
  },
  {
    name: 'no_final_newline.csv', content: 'a,b\r\n1,x\r\n2,y',
    columns: ['a:integer', 'b:text'], rows: [['1', 'x'], ['2', 'y']],
  },
  {
    name: 'blank_lines.csv', content: 'a,b\n1,x\n\n2,y\n   \n3,z\n\n\n',
    columns: ['a:integer', 'b:text'], rows: [['1', 'x'], ['2', 'y'], ['3', 'z']],
  },
  {
    name: 'latin1.csv', content: latin1('name,city,qty\nSociété Générale,Paris,1\nCafé Crème,Zürich,2\n'),
    columns: ['name:text', 'city:text', 'qty:integer'], rows: [['Café Crème', 'Zürich', '2'], ['Société Générale', 'Paris', '1']],
  },
  {
    name: 'windows1252.csv', content: Buffer.concat([Buffer.from('name,price\n'), Buffer.from([0x80]), latin1('uro sign,5\nCitroën,6\n')]),
    columns: ['name:text', 'price:integer'], rows: [['Citroën', '6'], ['€uro sign', '5']],
  },
  {
    name: 'utf16le.csv', content: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('code,name\r\nA,Ärger\r\nB,Öl\r\n', 'utf16le')]),
    columns: ['code:text', 'name:text'], rows: [['A', 'Ärger'], ['B', 'Öl']],
  },
  {
    name: 'cr_only.csv', content: 'a,b\r1,x\r2,y\r',
    columns: ['a:integer', 'b:text'], rows: [['1', 'x'], ['2', 'y']],
  },
  {
    // Thousands separators stay text (1,234 is not guessed to be 1234); a leading + is a plain sign.
    name: 'number_forms.csv', content: 'code,amount,qty,price\nA,"1,234",+5,+1.50\nB,"12,345.67",-3,-2.25\n',
    columns: ['code:text', 'amount:text', 'qty:integer', 'price:numeric'], rows: [['A', '1,234', '5', '1.50'], ['B', '12,345.67', '-3', '-2.25']],
  },
  {
    // dd/MM/yyyy is ambiguous with MM/dd/yyyy: kept as written, never guessed.
    name: 'date_forms.csv', content: 'code,dmy,iso,ts\nA,15/02/2024,2024-02-15,2024-02-15T10:00:00+05:30\nB,01/12/2024,2024-12-01,2024-02-15T23:30:00Z\n',
    columns: ['code:text', 'dmy:text', 'iso:date', 'ts:timestamp without time zone'],
    rows: [['A', '15/02/2024', '2024-02-15', '2024-02-15 04:30:00'], ['B', '01/12/2024', '2024-12-01', '2024-02-15 23:30:00']],
  },
  {
    name: 'long_fields.csv', content: `id,blob\n1,${longValue}\n2,"${longValue}"\n`,
    columns: ['id:integer', 'blob:text'], rows: [['1', longValue], ['2', longValue]],
  },
];

describe('real-world CSV files load with the values a reader sees', () => {
  for (const c of loads) {
    it(`${c.name}`, async () => {
      const { result, error } = await run('none_reference_data_table/fullload', c.name, c.content);
      expect(error).toBeNull();
      expect(result?.status).toBe('loaded');
      const table = c.name.replace(/\.csv$/, '');
      expect(await readBack(table)).toEqual({ columns: c.columns, rows: c.rows });
    });
  }

  it('a Windows-1252 file whose first accented letter comes after the first MiB (read as UTF-8 until then) loads as Windows-1252', async () => {
    const content = Buffer.concat([Buffer.from(`name,qty\n${'Plain Name,1\n'.repeat(100_000)}`), latin1('Société Générale,2\nCafé Crème,3\n'), Buffer.from('Tail,4\n')]);
    const { result, error } = await run('none_reference_data_table/fullload', 'late_latin1.csv', content);
    expect(error).toBeNull();
    expect(result?.status).toBe('loaded');
    const tail = await pg.query("SELECT name, qty FROM data.late_latin1 WHERE qty > 1 ORDER BY qty");
    expect(tail.rows).toEqual([{ name: 'Société Générale', qty: 2 }, { name: 'Café Crème', qty: 3 }, { name: 'Tail', qty: 4 }]);
    expect(await sys.db.countRows({ schema: 'data', name: 'late_latin1' })).toBe(100_003);
  });

  it('the switch to a single-byte encoding is decided again the same way on a retry that resumes after it', async () => {
    const dir = await fs.mkdtemp(path.join(sys.dropRoot, 'enc-'));
    const write = async (name: string, ...parts: Buffer[]) => {
      const file = path.join(dir, name);
      await fs.writeFile(file, Buffer.concat(parts));
      return file;
    };
    const ascii = Buffer.from('name\nplain\n');
    const latin = latin1('Société\nCafé\n');
    const utf8 = Buffer.from('Zürich\nSão Paulo\n', 'utf8');
    // First attempt: ASCII loaded, Latin-1 ahead. A retry: Latin-1 already loaded before its checkpoint, more ahead.
    expect(await singleByteEncodingAfter(await write('first.csv', ascii, latin), ascii.length)).toBe('windows-1252');
    expect(await singleByteEncodingAfter(await write('retry.csv', ascii, latin, latin), ascii.length + latin.length)).toBe('windows-1252');
    // UTF-8 characters before the checkpoint or in the MiB ahead: the file mixes encodings.
    expect(await singleByteEncodingAfter(await write('utf8_before.csv', ascii, utf8, latin), ascii.length + utf8.length)).toBeNull();
    expect(await singleByteEncodingAfter(await write('utf8_ahead.csv', ascii, latin, utf8), ascii.length)).toBeNull();
  });

  it('quotes inside unquoted fields far into a large file load literally, wherever COPY would have misread them', async () => {
    // Stray quotes every 1000 rows: more batches than the fast path retries, so the rest goes row by row.
    const many = await run('none_reference_data_table/fullload', 'stray_quotes_many.csv', manyRows(30_000, (i) => (i % 1000 === 7 ? `${i % 13}" pipe` : 'plain')));
    expect(many.error).toBeNull();
    // Two on consecutive rows past the planning sample, the rest of the file fast.
    const late = await run('none_reference_data_table/fullload', 'stray_quotes_late.csv', manyRows(30_000, (i) => (i === 29_000 || i === 29_001 ? `${i % 13}" pipe` : 'plain')));
    expect(late.error).toBeNull();
    for (const [table, strays] of [['stray_quotes_many', 30], ['stray_quotes_late', 2]] as const) {
      const counts = await pg.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE descr LIKE '%" pipe')::int AS strays, sum(qty)::bigint::text AS total FROM data.${table}`);
      expect(counts.rows[0]).toEqual({ n: 30_000, strays, total: String((29_999 * 30_000) / 2) });
    }
    const row = await pg.query("SELECT descr, qty FROM data.stray_quotes_late WHERE id = 29001");
    expect(row.rows).toEqual([{ descr: '11" pipe', qty: 29_001 }]);
  });
});

async function reportFor(file: string): Promise<{ category: string; message: string; details: { code?: string; row?: number } | null }> {
  const dir = path.join(path.dirname(file), 'error');
  const name = (await listDir(dir)).find((n) => n.endsWith(`${path.basename(file)}.error.json`));
  expect(name, `error report for ${path.basename(file)}`).toBeDefined();
  return JSON.parse(await fs.readFile(path.join(dir, name!), 'utf8'));
}

const asciiRows = (n: number) => 'Plain Name,1\n'.repeat(n);
const refused: Array<{ name: string; content: string | Buffer; message: RegExp; code: string }> = [
  { name: 'one_huge_line.csv', content: `${'a,'.repeat(1024 * 1024)}a`, message: /first line .* does not end within the first 1048576 bytes/, code: 'FIELD_TOO_LARGE' },
  {
    // Plain ASCII (read as UTF-8) up to row 100000, UTF-8 after it, then a row saved as Latin-1.
    name: 'ascii_utf8_latin1.csv', content: Buffer.concat([Buffer.from(`name,qty\n${asciiRows(100_000)}Zürich,1\nSão Paulo,1\n`), latin1('Société Générale,2\n')]),
    message: /row 100003 has bytes that are not UTF-8 .*it mixes encodings/, code: 'MIXED_ENCODING',
  },
  {
    name: 'nul_past_sample.csv', content: Buffer.concat([Buffer.from(`name,qty\n${asciiRows(100_000)}`), Buffer.from('bad\u0000name,2\n')]),
    message: /row 100001 holds a NUL byte/, code: 'BINARY_CONTENT',
  },
  {
    name: 'nul_past_sample_latin1.csv', content: Buffer.concat([latin1(`name,qty\n${'Café,1\n'.repeat(200_000)}`), Buffer.from('bad\u0000name,2\n')]),
    message: /row 200001 holds a NUL byte/, code: 'BINARY_CONTENT',
  },
  {
    // Values that need converting take the row-by-row path throughout.
    name: 'nul_past_sample_row_by_row.csv', content: Buffer.concat([Buffer.from(`name,d\n${'Plain Name,15-Feb-2024\n'.repeat(60_000)}`), Buffer.from('bad\u0000name,15-Feb-2024\n')]),
    message: /row 60001 \(line 60002\), column name: holds a NUL byte/, code: 'BINARY_CONTENT',
  },
  { name: 'double_cr.csv', content: 'a,b\r\r\n1,x\r\r\n2,y\r\r\n', message: /end with CR CR LF/, code: 'MIXED_LINE_ENDINGS' },
  {
    // A Windows export with a Unix export appended: CRLF would merge the LF-only lines into one giant row.
    name: 'concatenated_line_endings.csv', content: `a,b\r\n${'1,x\r\n'.repeat(1000)}${'2,y\n'.repeat(1000)}`,
    message: /mixes line endings: 1001 lines end with CRLF .* and 1000 with LF only .*first different at line 1002/, code: 'MIXED_LINE_ENDINGS',
  },
  { name: 'repeated_header.csv', content: `code,qty\n${'x,1\n'.repeat(5)}code,qty\n${'y,2\n'.repeat(5)}`, message: /Row 6 \(line 7\) .* repeats the header/, code: 'REPEATED_HEADER' },
  {
    name: 'backslash_escaped_quotes.csv', content: 'id,descr,qty\n1,"he said \\"hi\\"",5\n2,plain,3\n',
    message: /quoted field that starts on line 2 .* is never closed/, code: 'UNTERMINATED_QUOTE',
  },
];

describe('real-world CSV files that cannot load say exactly why', () => {
  for (const c of refused) {
    it(`${c.name}: ${c.code}, report in error/, no table`, async () => {
      const { result, error, file } = await run('none_reference_data_table/fullload', c.name, c.content);
      expect(result).toBeNull();
      expect(error).toMatch(c.message);
      const report = await reportFor(file);
      expect(report).toMatchObject({ category: 'InvalidFile', details: { code: c.code } });
      expect(await sys.db.describeTable({ schema: 'data', name: c.name.replace(/\.csv$/, '') })).toBeNull();
    });
  }

  it('one short row among 200 (within what the planner tolerates) fails the file naming the row', async () => {
    const content = `a,b,c\n${Array.from({ length: 200 }, (_, i) => (i === 100 ? '101,x' : `${i + 1},x,y`)).join('\n')}\n`;
    const { error, file } = await run('none_reference_data_table/fullload', 'one_short_row.csv', content);
    expect(error).toMatch(/row 101 \(line 102\) has 2 fields, expected 3/);
    expect(await reportFor(file)).toMatchObject({ category: 'InvalidFile', details: { code: 'RAGGED_ROWS', row: 101 } });
    expect(await sys.db.describeTable({ schema: 'data', name: 'one_short_row' })).toBeNull();
  });
});

describe('appending to an existing table', () => {
  it('values are converted to the table\'s column types: one that does not fit is quarantined by row and column, not the whole file refused', async () => {
    const folder = 'none_reference_data_table/append';
    expect((await run(folder, 'stock_20240101.csv', 'code,qty,price\nA,1,1.5\nB,2,2.5\n')).error).toBeNull();
    // In this file alone qty would be text (one word among numbers); the table says integer.
    const rows = Array.from({ length: 200 }, (_, i) => `C${i},${i},${i}.5`);
    rows[120] = 'BAD,many,9.5';
    const { result, error } = await run(folder, 'stock_20240102.csv', `code,qty,price\n${rows.join('\n')}\n`);
    expect(error).toBeNull();
    expect(result).toMatchObject({ status: 'loaded', rows: 199 });
    expect(await sys.db.countRows({ schema: 'data', name: 'stock' })).toBe(201);
    const invalid = await pg.query("SELECT row_number::int AS row_number, raw_text, errors::jsonb AS errors FROM ref.invalid_records WHERE source = 'file' AND record_id LIKE '%stock_20240102.csv'");
    expect(invalid.rows).toEqual([{ row_number: 121, raw_text: 'BAD,many,9.5', errors: ['row 121 (line 122), column qty: Value "many" is not a valid integer.'] }]);
  });
});
