// The instrument file's compression and layout come from its bytes, never its name.
import { describe, expect, it } from 'vitest';
import { detectFormat, isGzip } from '../../../src/instruments/format';

describe('format detection', () => {
  it('gzip by its magic bytes 1f 8b', () => {
    expect(isGzip(Uint8Array.from([0x1f, 0x8b, 8]))).toBe(true);
    expect(isGzip(Buffer.from('[{'))).toBe(false);
    expect(isGzip(Uint8Array.from([0x1f]))).toBe(false);
  });

  it.each([
    ['[{"instrument_key":"a"}]', 'json-array'],
    ['\uFEFF  \n [', 'json-array'],
    ['{"instrument_key":"a"}\n{"instrument_key":"b"}\n', 'ndjson'],
    ['instrument_token,exchange_token,tradingsymbol,name,last_price\n1,2,X,Y,0\n', 'csv'],
    ['"instrument_key","exchange_token","tradingsymbol"\r\n', 'csv'],
    ['<html><body>Access Denied</body></html>', null],
    ['a,b,c\n1,2,3\n', null],
    ['', null],
  ])('%j → %s', (text, want) => {
    expect(detectFormat(text)).toBe(want);
  });
});
