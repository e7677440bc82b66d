// Load plans from whole samples, and every way a file can be refused.
import { gzipSync } from 'node:zlib';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { type CsvErrorCode, CsvFormatError, type PlanInput, buildPlan, planSample } from '../../../src/csv';

const AIRPORTS = 'code,name,lat,opened,active\nLHR,Heathrow,51.4700,1946-05-31,yes\nCDG,Charles de Gaulle,49.0097,1974-03-08,no\nAMS,Schiphol,52.3105,1916-09-19,yes\n';

const plan = (text: string | Buffer, extra: Partial<PlanInput> = {}) =>
  buildPlan({ fileName: 'airports_20241201.csv', sample: Buffer.isBuffer(text) ? text : Buffer.from(text), sampleIsWholeFile: true, ...extra });

function codeOf(run: () => unknown): { code: CsvErrorCode; message: string; line?: number; row?: number } {
  try {
    run();
  } catch (error) {
    if (error instanceof CsvFormatError) return { code: error.code, message: error.message, ...error.location };
    throw error;
  }
  throw new Error('expected a CsvFormatError');
}

describe('buildPlan', () => {
  it('plans a plain file', () => {
    expect(plan(AIRPORTS)).toEqual({
      encoding: 'utf-8', delimiter: ',', quote: '"', newline: '\n', hasHeader: true, preambleLines: 0,
      headers: ['code', 'name', 'lat', 'opened', 'active'],
      columnNames: ['code', 'name', 'lat', 'opened', 'active'],
      columns: [
        { name: 'code', type: { kind: 'text', maxLength: 3 } },
        { name: 'name', type: { kind: 'text', maxLength: 17 } },
        { name: 'lat', type: { kind: 'decimal', precision: 6, scale: 4 } },
        { name: 'opened', type: { kind: 'date' } },
        { name: 'active', type: { kind: 'boolean' } },
      ],
      table: 'airports', sampleRows: 3, rowCountEstimate: 3, trailingDelimiter: false, raggedRows: [],
    });
  });

  it.each<[string, Buffer, string]>([
    ['UTF-8 with BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(AIRPORTS)]), 'utf-8-bom'],
    ['UTF-16LE with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(AIRPORTS, 'utf16le')]), 'utf-16le'],
    ['UTF-16BE with BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), iconv.encode(AIRPORTS, 'utf16be')]), 'utf-16be'],
    ['windows-1252', iconv.encode(AIRPORTS.replace('Heathrow', 'Héathrow'), 'win1252'), 'windows-1252'],
  ])('reads %s', (_name, bytes, encoding) => {
    const p = plan(bytes);
    expect(p.encoding).toBe(encoding);
    expect(p.headers[0]).toBe('code');
    expect(p.rowCountEstimate).toBe(3);
  });

  it('makes duplicate and empty headers unique and keeps the originals', () => {
    const p = plan('Id,ID,,Name\n1,2,3,x\n4,5,6,y\n');
    expect(p.headers).toEqual(['Id', 'ID', '', 'Name']);
    expect(p.columnNames).toEqual(['id', 'id_2', 'column_3', 'name']);
  });

  it('numbers the columns of a headerless file', () => {
    const p = plan('1,2.5,2024-01-01\n2,3.5,2024-01-02\n');
    expect(p).toMatchObject({ hasHeader: false, headers: ['column_1', 'column_2', 'column_3'], rowCountEstimate: 2 });
    expect(p.columns.map((c) => c.type.kind)).toEqual(['integer', 'decimal', 'date']);
  });

  it('skips preamble lines and blank lines', () => {
    const p = plan(`Airport list\nExported 2024-12-01\n\n${AIRPORTS}\n\n`);
    expect(p).toMatchObject({ preambleLines: 3, rowCountEstimate: 3, headers: ['code', 'name', 'lat', 'opened', 'active'] });
  });

  it('drops a trailing delimiter on every line', () => {
    const p = plan('a;b;\n1;x;\n2;y;\n');
    expect(p).toMatchObject({ columnNames: ['a', 'b'], trailingDelimiter: true, raggedRows: [] });
  });

  it('drops the cut-off last line of a partial sample and estimates the row count', () => {
    const full = `id,name\n${Array.from({ length: 1000 }, (_, i) => `${i},"name ${i}\nsecond line"`).join('\n')}\n`;
    const sample = Buffer.from(full).subarray(0, 4000);
    const p = plan(sample, { sampleIsWholeFile: false, fileSize: Buffer.byteLength(full) });
    expect(p.columns.map((c) => c.type.kind)).toEqual(['integer', 'text']);
    expect(p.rowCountEstimate).toBeGreaterThan(900);
    expect(p.rowCountEstimate).toBeLessThan(1100);
    expect(plan(sample, { sampleIsWholeFile: false }).rowCountEstimate).toBeNull();
  });

  it('tolerates a few ragged rows and lists them', () => {
    const rows = Array.from({ length: 200 }, (_, i) => (i === 49 ? `${i},x,extra` : `${i},x`));
    const p = plan(`id,name\n${rows.join('\n')}\n`);
    expect(p.raggedRows).toEqual([{ row: 50, line: 51, fields: 3 }]);
  });

  it('infers types from at most 20,000 rows but counts them all', () => {
    const rows = Array.from({ length: 25_000 }, (_, i) => (i < 20_000 ? `${i}` : 'text'));
    const p = plan(`n\n${rows.join('\n')}\n`);
    expect(p).toMatchObject({ sampleRows: 20_000, rowCountEstimate: 25_000 });
    expect(p.columns[0]!.type).toEqual({ kind: 'integer' });
  });

  const wide = (n: number) => `${Array.from({ length: n }, (_, i) => `c${i}`).join(',')}\n${Array.from({ length: n }, (_, i) => i).join(',')}\n`;
  it.each<[string, () => unknown, CsvErrorCode, RegExp]>([
    ['an empty file', () => plan(''), 'EMPTY_FILE', /empty/],
    ['a file of blank lines', () => plan('\r\n\r\n'), 'EMPTY_FILE', /empty/],
    ['a header without rows', () => plan('code,name,lat\n'), 'HEADER_ONLY', /header \(code, name, lat\) but no data rows/],
    ['binary data', () => plan(Buffer.from([0x00, 0x01, 0x02, 0x03, 0x41, 0x00, 0x10, 0x00])), 'BINARY_CONTENT', /binary/],
    ['NUL bytes inside text', () => plan(`${AIRPORTS}5,\u0000x\n`), 'BINARY_CONTENT', /binary/],
    ['a gzip file named .csv', () => plan(gzipSync(Buffer.from(AIRPORTS))), 'COMPRESSED', /gzip-compressed/],
    ['an xlsx named .csv', () => plan(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 8, 0])), 'COMPRESSED', /ZIP/],
    ['an unterminated quote', () => plan(`id,name\n1,a\n2,"b\n${'3,c\n'.repeat(300)}`), 'UNTERMINATED_QUOTE', /starts on line 3 .* never closed/],
    ['ragged rows', () => plan('id,name\n1,a\n2,b,c\n3,c\n'), 'RAGGED_ROWS', /Row 2 \(line 3\) .* has 3 fields but the header has 2/],
    ['duplicate headers when asked to refuse', () => plan('id,ID\n1,2\n', { duplicateHeaders: 'error' }), 'DUPLICATE_HEADERS', /"id" and "ID"/],
    ['5000 columns', () => plan(wide(5000)), 'TOO_MANY_COLUMNS', /5000 columns; at most 1600/],
    ['a field over 1 MiB', () => plan(`id,blob\n1,"${'x'.repeat(1024 * 1024 + 1)}"\n`), 'FIELD_TOO_LARGE', /Field 2 on line 2/],
    ['a partial sample without a line end', () => plan('x'.repeat(5000), { sampleIsWholeFile: false }), 'FIELD_TOO_LARGE', /does not end/],
    ['a file name with no usable characters', () => plan(AIRPORTS, { fileName: '2024-12-01.csv' }), 'INVALID_NAME', /table name/],
    ['lines ending CR CR LF', () => plan(AIRPORTS.replace(/\n/g, '\r\r\n')), 'MIXED_LINE_ENDINGS', /CR CR LF .* invisible CR in its last column/],
    [
      'a CRLF file with LF-only rows appended',
      () => plan(`id,name\r\n${'1,a\r\n'.repeat(50)}${'2,b\n'.repeat(50)}`), 'MIXED_LINE_ENDINGS', /51 lines end with CRLF .* and 50 with LF only .* first different at line 52/,
    ],
    ['an LF file with one CRLF row', () => plan('id,name\n1,a\n2,b\r\n3,c\n'), 'MIXED_LINE_ENDINGS', /1 lines end with CRLF .* and 3 with LF only .* first different at line 3/],
    ['a header repeated inside the data', () => plan(`${AIRPORTS}Code,Name,Lat,Opened,Active\n${AIRPORTS.split('\n').slice(1).join('\n')}`), 'REPEATED_HEADER', /Row 4 \(line 5\) .* repeats the header/],
  ])('refuses %s', (_name, run, code, message) => {
    const error = codeOf(run);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it('does not mistake a header one name short for a title line', () => {
    const error = codeOf(() => plan('id,name,price\n1,a,2.5,x\n2,b,3.5,y\n'));
    expect(error).toMatchObject({ code: 'RAGGED_ROWS', row: 1, line: 2 });
  });

  it('a one-column file: a number column repeating its name is refused, a word list holding it reads without a header', () => {
    expect(codeOf(() => plan(`amount\n${'5\n'.repeat(20)}amount\n${'7\n'.repeat(5)}`))).toMatchObject({ code: 'REPEATED_HEADER', row: 21, line: 22 });
    expect(plan('type\nfuture\ntype\noption\n')).toMatchObject({ hasHeader: false, rowCountEstimate: 4 });
  });

  it('line breaks inside quoted values are not line endings of another kind', () => {
    // Excel writes LF inside cells of a CRLF file; some exports quote with apostrophes.
    expect(plan('id,note\r\n1,"two\nlines"\r\n2,"x"\r\n3,"three\nmore\nlines"\r\n')).toMatchObject({ newline: '\r\n', rowCountEstimate: 3 });
    expect(plan("id;note\n1;'a\r\nb'\n2;'it''s'\n3;'c\r\nd'\n")).toMatchObject({ newline: '\n', quote: "'", rowCountEstimate: 3 });
    // An inch mark is text, not the start of a quoted section that would shift which breaks are inside values.
    expect(plan('id,descr,note\r\n1,12" ruler,"a\nb"\r\n2,pen,"c\nd"\r\n3,6" pipe,y\r\n4,x,y\r\n')).toMatchObject({ newline: '\r\n', rowCountEstimate: 4 });
  });

  it('reports where an unterminated quote starts', () => {
    expect(codeOf(() => plan('id,name\n1,a\n2,"b\n3,c\n'))).toMatchObject({ code: 'UNTERMINATED_QUOTE', line: 3 });
  });
});

describe('buildPlan: numbers as column names, and headerless files that start with words', () => {
  it.each<[string, string, string[], string[], number]>([
    ['years', 'market;2010;2011;2012;2013\nOslo;3,5;3,75;4,0;4,25\nBergen;2,25;2,5;2,5;2,75\nTromsø;1,0;1,25;1,5;1,5\n', ['market', 'c_2010', 'c_2011', 'c_2012', 'c_2013'], ['text', 'text', 'text', 'text', 'text'], 3],
    ['years over four-digit figures', 'plant\t1995\t1996\t1997\nP-01\t4410\t4523\t4390\nP-02\t3980\t4012\t4105\nP-03\t5120\t5066\t5213\nP-04\t2890\t2975\t3001\n', ['plant', 'c_1995', 'c_1996', 'c_1997'], ['text', 'integer', 'integer', 'integer'], 4],
    ['numeric account codes', 'cost_centre,7100,7200,7300\nHR,1520.75,880.10,45.00\nIT,9931.20,120.55,3.25\nOps,77.70,66.60,55.50\n', ['cost_centre', 'c_7100', 'c_7200', 'c_7300'], ['text', 'decimal', 'decimal', 'decimal'], 3],
    ['unordered numeric codes', 'bank,826,250,276,724\nB1,1234567,2345678,3456789,4567890\nB2,7654321,6543210,5432109,4321098\nB3,1111111,2222222,3333333,4444444\n', ['bank', 'c_826', 'c_250', 'c_276', 'c_724'], ['text', 'integer', 'integer', 'integer', 'integer'], 3],
    ['month-end dates', 'isin,2024-04-30,2024-05-31,2024-06-30\nXS0001,101.5,101.75,102.0\nXS0002,99.25,99.5,98.75\nXS0003,100.0,100.5,100.25\n', ['isin', 'c_2024_04_30', 'c_2024_05_31', 'c_2024_06_30'], ['text', 'decimal', 'decimal', 'decimal'], 3],
  ])('reads a header of %s as the column names, not as a data row', (_name, text, names, kinds, rows) => {
    const p = plan(text);
    expect(p.hasHeader).toBe(true);
    expect(p.columnNames).toEqual(names);
    expect(p.columns.map((c) => c.type.kind)).toEqual(kinds);
    expect(p.rowCountEstimate).toBe(rows);
  });

  it.each<[string, string, number]>([
    ['codes, names, a category, a missing figure', 'KLM,Mei Silva,Export,\nBAW,Jon Haddad,Retail,17.25\nAFR,Lea Garcia-Novak,Online,3.50\nDLH,Ivan Moreau,Retail,88.00\n', 4],
    ['categories that repeat, with zero-padded codes', 'Retail|00417|Harbour Street\nOnline|00982|Mill Lane\nRetail|00113|Station Road East\nExport|00765|Old Quay\n', 4],
    ['one row per year', '1987,12.5,3301\n1988,13.0,3402\n1989,13.5,3199\n1990,14.0,3288\n', 4],
  ])('reads a headerless file (%s) with every row as data', (_name, text, rows) => {
    const p = plan(text);
    expect(p.hasHeader).toBe(false);
    expect(p.headers[0]).toBe('column_1');
    expect(p.rowCountEstimate).toBe(rows);
  });
});

describe('buildPlan: an HTML page saved as .csv', () => {
  it.each<[string, string | Buffer]>([
    ['a proxy error page', '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n'],
    ['an HTML5 login page with a BOM and leading blank lines', '\uFEFF\n\n  <!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head><body><form>user,password</form></body></html>\n'],
    ['an XHTML page after an XML declaration', '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "x">\n<html xmlns="http://www.w3.org/1999/xhtml"><body><p>Not found</p></body></html>\n'],
    ['a page that starts with a comment', '<!-- served by cache-7, a,b,c -->\n<HTML><BODY>Access denied; request id 1,2,3</BODY></HTML>\n'],
    ['a page fragment without an html element', '<head>\n<meta http-equiv="refresh" content="0; url=/login">\n</head>\n'],
    ['a UTF-16 page', Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode('<!doctype html><html><body>Quota exceeded, try later</body></html>', 'utf16le')])],
  ])('refuses %s, saying it is an HTML page', (_name, content) => {
    const error = codeOf(() => plan(content));
    expect(error.code).toBe('HTML_PAGE');
    expect(error.message).toMatch(/airports_20241201\.csv is an HTML page .*Download the file again/);
  });

  it.each<[string, string, number]>([
    ['markup inside values', 'id,snippet\n1,<b>bold</b>\n2,<html> is a tag\n', 2],
    ['values that start with <', 'limit,label\n<10,x\n<20,y\n<30,z\n', 3],
  ])('reads a table with %s as a table', (_name, text, rows) => {
    expect(plan(text).rowCountEstimate).toBe(rows);
  });
});

describe('buildPlan: a UTF-8 byte-order mark followed by bytes that are not UTF-8', () => {
  const bom = Buffer.from([0xef, 0xbb, 0xbf]);
  const withBom = (...parts: Buffer[]) => Buffer.concat([bom, ...parts]);
  it.each<[string, Buffer, { row?: number; line: number }, RegExp]>([
    ['a Windows-1252 row', withBom(Buffer.from('code,city\nA1,Oslo\nB2,Lyon\n'), iconv.encode('C3,Besançon\n', 'win1252')), { row: 3, line: 4 }, /row 3 \(line 4\) has bytes that are not UTF-8 \(they look like Windows-1252\)/],
    ['Windows-1252 throughout, curly quotes and all', withBom(iconv.encode('name;note\nRené;“ok”\nZoë;fine\n', 'win1252')), { row: 1, line: 2 }, /row 1 \(line 2\)/],
    ['a Latin-1 header', withBom(Buffer.from('id,'), Buffer.from([0x6e, 0xfa, 0x6d, 0x8d]), Buffer.from('\n1,2\n2,3\n')), { line: 1 }, /but line 1 has bytes .*look like Latin-1/],
    ['UTF-8 first, then a Windows-1252 row after a quoted line break', withBom(Buffer.from('id,note\n1,"Zürich\nHB"\n2,Genève\n'), iconv.encode('3,Genève\n', 'win1252')), { row: 3, line: 5 }, /row 3 \(line 5\)/],
  ])('refuses %s with the row', (_name, bytes, location, message) => {
    const error = codeOf(() => plan(bytes));
    expect(error).toMatchObject({ code: 'BOM_MISMATCH', ...location });
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/starts with a UTF-8 byte-order mark/);
  });

  it('keeps a BOM file whose sample merely ends inside a UTF-8 character', () => {
    const text = withBom(Buffer.from(`id,city\n${'1,Zürich\n'.repeat(50)}`));
    const cut = text.subarray(0, text.indexOf(Buffer.from('ü'), 200) + 1);
    expect(plan(cut, { sampleIsWholeFile: false })).toMatchObject({ encoding: 'utf-8-bom', headers: ['id', 'city'] });
  });
});

describe('buildPlan: values holding terminal escape sequences', () => {
  const esc = '\u001b';
  it.each<[string, string, string[][]]>([
    ['colour codes pasted from a console', `job,status\nnightly,${esc}[31mFAILED${esc}[0m\nhourly,${esc}[32mOK${esc}[0m\n`, [['nightly', `${esc}[31mFAILED${esc}[0m`], ['hourly', `${esc}[32mOK${esc}[0m`]]],
    ['bold, 256-colour and cursor codes, tab-separated', `key\tvalue\na\t${esc}[1m${esc}[38;5;196mhot${esc}[0m\nb\t${esc}[2K${esc}[1Gdone\nc\tplain\n`, [['a', `${esc}[1m${esc}[38;5;196mhot${esc}[0m`], ['b', `${esc}[2K${esc}[1Gdone`], ['c', 'plain']]],
    ['a hyperlink escape (quoted: it holds the delimiter)', `id;doc\n1;"${esc}]8;;https://docs.test/x\u0007guide${esc}]8;;\u0007"\n2;none\n`, [['1', `${esc}]8;;https://docs.test/x\u0007guide${esc}]8;;\u0007`], ['2', 'none']]],
  ])('reads %s as text, as written', (_name, text, rows) => {
    const { plan: p, dataRows } = planSample({ fileName: 'console.csv', sample: Buffer.from(text), sampleIsWholeFile: true });
    expect(p.columns[1]?.type.kind).toBe('text');
    expect(dataRows).toEqual(rows);
  });

  it.each<[string, Buffer]>([
    ['NUL bytes', Buffer.from(`a,b\n1,${esc}[31mx\u0000\u0000\n`)],
    ['random binary data', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256))],
    ['a stream of other control characters', Buffer.from(`a,b\n${'\u0002\u0003,\u0004\u0005\n'.repeat(50)}`)],
  ])('still refuses %s as binary', (_name, bytes) => {
    expect(codeOf(() => plan(bytes)).code).toBe('BINARY_CONTENT');
  });
});
