// Dialect detection: delimiter, quote, line ending, preamble and header on hand-written samples.
import { describe, expect, it } from 'vitest';
import { CsvFormatError, type Delimiter, type Newline, detectDialect, detectNewline } from '../../../src/csv';

/** A small typed table with a quoted text column that contains every candidate delimiter. */
function table(d: Delimiter, newline: Newline, quote = '"', header = true): string {
  const rows = [
    ['1', `${quote}Smith, John; Jr | ${d === '\t' ? 'tab\t' : ''}x${quote}`, '12.50', '2024-01-02'],
    ['2', 'Doe', '7.25', '2024-02-03'],
    ['3', `${quote}line one${newline}line two${quote}`, '3.00', '2024-03-04'],
    ['4', 'Roe', '10.00', '2024-04-05'],
    ['5', `${quote}say ${quote}${quote}hi${quote}${quote}${quote}`, '1.10', '2024-05-06'],
  ];
  const lines = rows.map((r) => r.join(d));
  if (header) lines.unshift(['id', 'name', 'amount', 'booked_on'].join(d));
  return lines.join(newline) + newline;
}

describe('detectDialect', () => {
  it.each<Delimiter>([',', ';', '\t', '|'])('finds delimiter %j with quoted fields holding other delimiters', (d) => {
    const dialect = detectDialect(table(d, '\n'));
    expect(dialect).toEqual({ delimiter: d, quote: '"', newline: '\n', hasHeader: true, preambleLines: 0 });
  });

  it.each<Newline>(['\r\n', '\n', '\r'])('finds line ending %j even with line breaks inside quotes', (nl) => {
    expect(detectDialect(table(',', nl)).newline).toBe(nl);
  });

  it('finds single-quote quoting', () => {
    const dialect = detectDialect(table(',', '\n', "'"));
    expect([dialect.delimiter, dialect.quote]).toEqual([',', "'"]);
  });

  it('does not take apostrophes in names for quotes', () => {
    const text = "id,name\n1,O'Brien\n2,'s-Hertogenbosch\n3,D'Angelo\n";
    expect(detectDialect(text)).toMatchObject({ delimiter: ',', quote: '"', hasHeader: true });
  });

  it('prefers the semicolon when commas are decimal separators', () => {
    const text = 'id;price;qty\n1;2,50;3\n2;13,75;1\n3;0,99;12\n';
    expect(detectDialect(text)).toMatchObject({ delimiter: ';', hasHeader: true });
  });

  it('sees a headerless numeric file', () => {
    const text = '1,2.5,3\n4,5.5,6\n7,8.25,9\n10,11.0,12\n';
    expect(detectDialect(text)).toMatchObject({ delimiter: ',', hasHeader: false, preambleLines: 0 });
  });

  it('sees a headerless file whose first column is text', () => {
    const text = 'LHR,Heathrow,51.47,-0.45\nCDG,Charles de Gaulle,49.01,2.55\nAMS,Schiphol,52.31,4.76\n';
    expect(detectDialect(text).hasHeader).toBe(false);
  });

  it('sees a header over an all-text table', () => {
    const text = 'code,name,country\nLHR,Heathrow,United Kingdom\nCDG,Charles de Gaulle,France\nAMS,Schiphol,Netherlands\n';
    expect(detectDialect(text).hasHeader).toBe(true);
  });

  it.each<[string, string, number]>([
    ['title and blank line', 'Airports report\n\ncode,name,lat\nLHR,Heathrow,51.47\nCDG,CDG,49.01\n', 2],
    ['comment lines', '# exported by tool, v2\n# 2024-12-01\ncode;lat\nLHR;51.47\nCDG;49.01\n', 2],
    ['spreadsheet title padded with delimiters', 'Airports,,\nAs of 2024-12-01,,\ncode,name,lat\nLHR,Heathrow,51.47\nCDG,CDG,49.01\n', 2],
    ['CRLF title', 'Report\r\ncode,lat\r\nLHR,51.47\r\nCDG,49.01\r\n', 1],
  ])('skips preamble lines: %s', (_name, text, lines) => {
    expect(detectDialect(text)).toMatchObject({ preambleLines: lines, hasHeader: true });
  });

  it.each<[string, string, boolean]>([
    ['with header', 'code\nLHR\nCDG\nAMS\n', true],
    ['numbers without header', '10\n20\n30\n', false],
    ['free text with commas', 'comment\nfine, thanks\nall good\nok\n', true],
  ])('handles a single-column file %s', (_name, text, header) => {
    const dialect = detectDialect(text);
    expect(dialect.hasHeader).toBe(header);
    expect(text.includes(dialect.delimiter)).toBe(false);
  });

  it('follows an Excel sep= line and counts it as preamble', () => {
    expect(detectDialect('sep=;\r\na;b\r\n1;2,5\r\n')).toEqual({ delimiter: ';', quote: '"', newline: '\r\n', hasHeader: true, preambleLines: 1 });
  });

  it('reads a header-only line as a header', () => {
    expect(detectDialect('id,name,price\n')).toMatchObject({ delimiter: ',', hasHeader: true });
  });

  it.each<[string, string, string]>([
    ['empty text', '', 'EMPTY_FILE'],
    ['only blank lines', '\n\n  \n', 'EMPTY_FILE'],
    ['NUL characters', 'a,b\n1,\u0000\n', 'BINARY_CONTENT'],
    ['2000 columns', `${Array.from({ length: 2000 }, (_, i) => `c${i}`).join(',')}\n`, 'TOO_MANY_COLUMNS'],
  ])('refuses %s', (_name, text, code) => {
    expect(() => detectDialect(text)).toThrow(expect.objectContaining({ code }) as CsvFormatError);
  });

  it('stays fast on a 1 MiB sample', () => {
    const row = '12345,"Some name, with comma",2024-12-01,3.1415,true,ABC\n';
    const text = `id,name,day,value,flag,code\n${row.repeat(Math.ceil((1024 * 1024) / row.length))}`;
    const started = performance.now();
    expect(detectDialect(text)).toMatchObject({ delimiter: ',', hasHeader: true });
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('detectNewline', () => {
  it('ignores LF inside quoted fields of a CRLF file', () => {
    expect(detectNewline('a,b\r\n"x\ny\nz",1\r\n"p\nq",2\r\n')).toBe('\r\n');
  });
});
