// Encoding detection, decoding, and recognition of binary or compressed samples.
import { gzipSync } from 'node:zlib';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { type Encoding, bomLength, countUtf8Characters, decode, detectCompression, detectEncoding, isProbablyBinary, mixedEncodingLine } from '../../../src/csv';

const TEXT = 'id,city,price\n1,Zürich,12.50\n2,São Paulo,7.00\n3,Besançon,€3\n';

function encodeAs(text: string, encoding: Encoding): Buffer {
  switch (encoding) {
    case 'utf-8':
      return Buffer.from(text, 'utf8');
    case 'utf-8-bom':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
    case 'utf-16le':
      return Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(text, 'utf16le')]);
    case 'utf-16be':
      return Buffer.concat([Buffer.from([0xfe, 0xff]), iconv.encode(text, 'utf16be')]);
    case 'windows-1252':
      return iconv.encode(text, 'win1252');
    case 'latin1':
      return iconv.encode(text, 'latin1');
  }
}

describe('detectEncoding and decode', () => {
  it.each<Encoding>(['utf-8', 'utf-8-bom', 'utf-16le', 'utf-16be', 'windows-1252'])('round-trips %s text', (encoding) => {
    const bytes = encodeAs(TEXT, encoding);
    expect(detectEncoding(bytes)).toBe(encoding);
    expect(decode(bytes, encoding)).toBe(TEXT);
  });

  it('reads the windows-1252 byte 0xE9 as é', () => {
    const bytes = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]);
    expect(detectEncoding(bytes)).toBe('windows-1252');
    expect(decode(bytes, 'windows-1252')).toBe('café\n');
  });

  it('chooses latin1 when bytes undefined in windows-1252 occur', () => {
    const bytes = Buffer.from([0x61, 0x81, 0xe9, 0x0a]);
    expect(detectEncoding(bytes)).toBe('latin1');
    expect(decode(bytes, 'latin1')).toBe('a\u0081é\n');
  });

  it('treats pure ASCII as utf-8', () => {
    expect(detectEncoding(Buffer.from('a,b\n1,2\n'))).toBe('utf-8');
  });

  it('accepts a UTF-8 sequence cut off by the end of the sample', () => {
    const bytes = Buffer.from('name\nZürich\nMünchen', 'utf8');
    expect(detectEncoding(bytes.subarray(0, bytes.length - 5))).toBe('utf-8');
  });

  it.each<['utf-16le' | 'utf-16be']>([['utf-16le'], ['utf-16be']])('recognises %s without a BOM', (encoding) => {
    const bytes = iconv.encode(TEXT, encoding);
    expect(detectEncoding(bytes)).toBe(encoding);
    expect(bomLength(encoding, bytes)).toBe(0);
    expect(decode(bytes, encoding)).toBe(TEXT);
  });

  it.each<[Encoding, number]>([
    ['utf-8', 0],
    ['utf-8-bom', 3],
    ['utf-16le', 2],
    ['utf-16be', 2],
    ['windows-1252', 0],
    ['latin1', 0],
  ])('bomLength(%s) is %i', (encoding, length) => {
    expect(bomLength(encoding)).toBe(length);
  });
});

describe('isProbablyBinary and detectCompression', () => {
  const zip = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00]);
  it.each<[string, Buffer, boolean, 'gzip' | 'zip' | null]>([
    ['plain CSV', Buffer.from(TEXT), false, null],
    ['UTF-16LE CSV (NULs are part of the encoding)', encodeAs(TEXT, 'utf-16le'), false, null],
    ['gzip', gzipSync(Buffer.from(TEXT)), true, 'gzip'],
    ['zip / xlsx', zip, true, 'zip'],
    ['NUL bytes in UTF-8 text', Buffer.from('a,b\n1,\u0000\u0000\u0000x\n2,y\n'), true, null],
    ['PDF', Buffer.from('%PDF-1.7\n...'), true, null],
    ['mostly control characters', Buffer.from(Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? 0x01 : 0x41))), true, null],
    ['empty', Buffer.alloc(0), false, null],
    // Terminal escape sequences pasted from a console are text, however dense.
    ['colour codes in every value', Buffer.from('lvl,msg\n\u001b[31mERR\u001b[0m,\u001b[1;33mdisk\u001b[0m\n\u001b[32mOK\u001b[0m,\u001b[2Kdone\n'), false, null],
    ['colour codes in UTF-16', encodeAs('k,v\n\u001b[35ma\u001b[m,\u001b[38;5;208mb\u001b[0m\n', 'utf-16le'), false, null],
    ['terminal hyperlinks (OSC 8)', Buffer.from('id,link\n1,\u001b]8;;https://x.test/a\u0007docs\u001b]8;;\u0007\n2,\u001b]0;title\u001b\\t\n'), false, null],
    ['vertical tabs and form feeds (word-processor line breaks)', Buffer.from('a,b\n1,x\u000by\u000bz\n2,\u000c\u000b\u000b\n'), false, null],
    ['lone ESC bytes', Buffer.from(Array.from({ length: 200 }, (_, i) => (i % 4 === 0 ? 0x1b : 0x41))), true, null],
    ['unfinished escape sequences', Buffer.from('a,b\n' + '\u001b[12;\u0001,x\n'.repeat(20)), true, null],
    ['a NUL after a colour code', Buffer.from('a,b\n\u001b[31m1\u001b[0m,\u0000\n'), true, null],
    ['a few stray control bytes in a long text', Buffer.from(`a,b\n${'1,plain text\n'.repeat(40)}2,x\u0002y\n`), false, null],
  ])('%s', (_name, sample, binary, compression) => {
    expect(isProbablyBinary(sample)).toBe(binary);
    expect(detectCompression(sample)).toBe(compression);
  });
});

describe('mixedEncodingLine', () => {
  it('finds the first line with bytes that are not UTF-8 in a sample that also holds UTF-8 characters', () => {
    const mixed = Buffer.concat([Buffer.from('code,name\na,Zürich\nb,São Paulo\n', 'utf8'), Buffer.from('c,Malmö\n', 'latin1')]);
    expect(mixedEncodingLine(mixed)).toBe(4);
  });

  it('leaves alone a Windows-1252 file (no UTF-8 sequences), a UTF-8 file, and a UTF-8 character cut by the sample end', () => {
    expect(mixedEncodingLine(Buffer.from('ville\nÉté à Québec\nMalmö\n', 'latin1'))).toBeNull();
    expect(mixedEncodingLine(Buffer.from('ville\nÉté à Québec\n', 'utf8'))).toBeNull();
    const cut = Buffer.from('a,Zürich\nb,Zürich\nc,€', 'utf8');
    expect(mixedEncodingLine(cut.subarray(0, cut.length - 1))).toBeNull();
  });

  it('one accidental pair in a Windows-1252 file is not enough to call it mixed', () => {
    // "Â£" in Windows-1252 happens to be a well-formed UTF-8 sequence; one such pair is a coincidence.
    expect(mixedEncodingLine(Buffer.from('item,price\ntea,Â£3\ncafé,2\n', 'latin1'))).toBeNull();
  });
});

describe('countUtf8Characters', () => {
  it('counts well-formed multi-byte characters, not Latin-1 bytes or a sequence cut at the end', () => {
    expect(countUtf8Characters(Buffer.from('Zürich, São Paulo, 東京, 😀', 'utf8'))).toBe(5);
    expect(countUtf8Characters(Buffer.from('Société Générale, Café Crème', 'latin1'))).toBe(0);
    expect(countUtf8Characters(Buffer.from('plain ascii'))).toBe(0);
    expect(countUtf8Characters(Buffer.from('ü', 'utf8').subarray(0, 1))).toBe(0);
  });
});
