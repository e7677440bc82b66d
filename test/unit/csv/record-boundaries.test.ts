// The record-boundary scanners (decoded text, and raw UTF-8 bytes): whole records only, quote-aware, any chunking
// gives the same records, and the two agree.
import { describe, expect, it } from 'vitest';
import Papa from 'papaparse';
import { ByteRecordBoundaryScanner, RecordBoundaryScanner } from '../../../src/csv/record-boundaries';

type Newline = '\n' | '\r\n' | '\r';

function scanText(text: string, chunkSize: number, newline: Newline = '\n', skip = 0) {
  const s = new RecordBoundaryScanner('"', ',', newline, skip);
  let out = '';
  let skipped = '';
  let records = 0;
  let blanks = 0;
  let strays = 0;
  for (let i = 0; i < text.length; i += chunkSize) {
    const r = s.push(text.slice(i, i + chunkSize));
    out += r.text;
    skipped += r.skipped;
    records += r.records;
    blanks += r.blankRecords;
    strays += r.strayQuotes;
  }
  const f = s.finish();
  return { out: out + f.text, skipped: skipped + f.skipped, records: records + f.records, blanks, unterminated: f.unterminatedQuote, strays: strays + f.strayQuotes };
}

/** The same over the text's UTF-8 bytes, cut every `chunkSize` bytes (so also inside multi-byte characters). */
function scanBytes(text: string, chunkSize: number, newline: Newline = '\n', skip = 0) {
  const bytes = Buffer.from(text, 'utf8');
  const s = new ByteRecordBoundaryScanner('"', ',', newline, skip);
  const out: Buffer[] = [];
  const skipped: Buffer[] = [];
  let records = 0;
  let blanks = 0;
  let strays = 0;
  for (let i = 0; i < bytes.length; i += chunkSize) {
    const r = s.push(bytes.subarray(i, i + chunkSize));
    out.push(r.text);
    skipped.push(r.skipped);
    records += r.records;
    blanks += r.blankRecords;
    strays += r.strayQuotes;
  }
  const f = s.finish();
  out.push(f.text);
  skipped.push(f.skipped);
  return { out: Buffer.concat(out).toString('utf8'), skipped: Buffer.concat(skipped).toString('utf8'), records: records + f.records, blanks, unterminated: f.unterminatedQuote, strays: strays + f.strayQuotes };
}

const scanners = [['text', scanText], ['bytes', scanBytes]] as const;

const tricky = 'a,b,c\n1,"x, y",2\n3,"multi\nline ""quoted""\n",4\n5,,6\n"",7,8\n';

describe.each(scanners)('record boundaries in %s', (_kind, scanAll) => {
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

  it.each([1, 2, 3, 7, 1000])('reads a quote inside an unquoted field as a literal, as papaparse does, and counts it (chunks of %i)', (size) => {
    // Inch marks: COPY would open a quoted section at each and merge the first two records into one.
    const text = 'id,descr,qty\n1,12" ruler,5\n2,6" ruler,3\n3,pen,1\n4,"a ""b"" c",2\n5,"",x""y\n';
    const r = scanAll(text, size);
    expect(r.records).toBe(Papa.parse(text.trimEnd()).data.length);
    expect(r).toMatchObject({ records: 6, unterminated: false, strays: 4 });
  });

  it('reports stray quotes with the record that holds them, not before it is complete', () => {
    const s = new RecordBoundaryScanner('"', ';', '\n');
    expect(s.push('a;b\n1;12" x')).toMatchObject({ records: 1, strayQuotes: 0 });
    expect(s.push(' 6" ruler\n2;"q;"\n')).toMatchObject({ records: 2, strayQuotes: 2 });
    expect(s.push('3;last"')).toMatchObject({ records: 0, strayQuotes: 0 });
    expect(s.finish()).toMatchObject({ records: 1, strayQuotes: 1 });
  });

  it('a lone stray quote does not swallow the rest of the file', () => {
    expect(scanAll('id,descr\n1,12" ruler\n2,pen\n3,pencil\n', 5)).toMatchObject({ records: 4, unterminated: false, strays: 1 });
  });
});

describe('bytes and text agree', () => {
  const multibyte = 'code,name\n1,"Zürich, ÖBB"\n2,"東京 ""駅""\n北口"\n3,€uro\n\n4,😀\r\n';
  it.each([1, 2, 3, 4, 5, 13, 4096])('on multi-byte UTF-8 cut every %i bytes, with the header skipped', (size) => {
    const bytes = scanBytes(multibyte, size, '\n', 1);
    expect(bytes).toEqual(scanText(multibyte, 7, '\n', 1));
    expect(bytes.skipped).toBe('code,name\n');
    expect(bytes.records).toBe(5);
    expect(bytes.blanks).toBe(1);
  });

  it('emitted plus skipped bytes are exactly the input (byte offsets stay exact)', () => {
    const r = scanBytes(multibyte, 5, '\n', 1);
    expect(Buffer.byteLength(r.skipped) + Buffer.byteLength(r.out)).toBe(Buffer.byteLength(multibyte));
  });

  it('refuses a quote character that is not one ASCII character', () => {
    expect(() => new ByteRecordBoundaryScanner('«', ',', '\n')).toThrow(/one ASCII character/);
  });
});
