// The record-boundary scanner: whole records only, quote-aware, any chunking gives the same records.
import { describe, expect, it } from 'vitest';
import Papa from 'papaparse';
import { RecordBoundaryScanner } from '../../../src/csv/record-boundaries';

function scanAll(text: string, chunkSize: number, newline: '\n' | '\r\n' | '\r' = '\n', skip = 0) {
  const s = new RecordBoundaryScanner('"', newline, skip);
  let out = '';
  let records = 0;
  let blanks = 0;
  for (let i = 0; i < text.length; i += chunkSize) {
    const r = s.push(text.slice(i, i + chunkSize));
    out += r.text;
    records += r.records;
    blanks += r.blankRecords;
  }
  const f = s.finish();
  return { out: out + f.text, records: records + f.records, blanks, unterminated: f.unterminatedQuote };
}

const tricky = 'a,b,c\n1,"x, y",2\n3,"multi\nline ""quoted""\n",4\n5,,6\n"",7,8\n';

describe('RecordBoundaryScanner', () => {
  it.each([1, 2, 3, 5, 7, 64, 1000])('finds the same records with chunks of %i characters', (size) => {
    const r = scanAll(tricky, size);
    expect(r.out).toBe(tricky);
    expect(r.records).toBe(5);
    expect(r.blanks).toBe(0);
  });

  it('agrees with papaparse on record count for generated quoted data', () => {
    const rows: string[][] = [];
    for (let i = 0; i < 500; i++) rows.push([`k${i}`, i % 7 === 0 ? `line\n"${i}"` : `v,${i}`, String(i)]);
    const text = `${Papa.unparse(rows, { newline: '\n' })}\n`;
    expect(scanAll(text, 97).records).toBe(500);
  });

  it('skips leading records (preamble and header) without emitting them', () => {
    const r = scanAll('title line\nh1,h2\n1,2\n3,4\n', 4, '\n', 2);
    expect(r.out).toBe('1,2\n3,4\n');
    expect(r.records).toBe(2);
  });

  it('handles CRLF and CR-only files, and a last record without a newline', () => {
    expect(scanAll('a,b\r\n1,"2\r\n3"\r\n4,5', 3, '\r\n')).toMatchObject({ records: 3, out: 'a,b\r\n1,"2\r\n3"\r\n4,5\n' });
    expect(scanAll('a,b\r1,2\r3,4', 2, '\r')).toMatchObject({ records: 3, out: 'a,b\r1,2\r3,4\r' });
  });

  it('counts blank lines so the loader can tell COPY would see them', () => {
    expect(scanAll('a\n\nb\n\r\nc\n', 2)).toMatchObject({ records: 5, blanks: 2 });
  });

  it('reports a quote that never closes', () => {
    expect(scanAll('a,"b\n1,2\n', 4).unterminated).toBe(true);
  });
});
