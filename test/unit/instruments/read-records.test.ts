// What the reader says about a file that is not an instrument master, from its first characters or first record.
import { describe, expect, it } from 'vitest';
import { describeStart, notNdjsonReason } from '../../../src/instruments/read-records';

describe('a file that starts with "{" but is not NDJSON', () => {
  it('a first line that is not JSON on its own is a pretty-printed document', () => {
    expect(notNdjsonReason('{', null)).toMatch(/first line \("\{"\) is not a JSON object on its own.*pretty-printed/);
  });

  it('an object holding a list and no instrument key wraps the instruments', () => {
    const wrapper = { raw: { status: 'success', data: [{ instrument_key: 'NSE_EQ|X' }] } };
    expect(notNdjsonReason('', wrapper)).toBe('its first record holds a list under "data" and no instrument_key: it is one JSON object wrapping the instruments, not a JSON array or NDJSON of instruments');
  });

  it.each([
    [{ instrument_key: 'NSE_FO|1', lot_size: 50 }],
    [{ instrument_token: '256265', exchange: 'NSE', tags: ['index'] }],
    [{ name: 'no key, but no list either' }],
    [[1, 2]],
  ])('%j is a record (valid or not), so the file is NDJSON', (raw) => {
    expect(notNdjsonReason(JSON.stringify(raw), { raw })).toBeNull();
  });
});

describe('the start of a file of unknown format', () => {
  it.each([
    ['PK\u0003\u0004\u0014\u0000rest', /^like a ZIP archive/],
    ['\n  <!DOCTYPE html><html><body>Access Denied</body></html>', /^like an HTML or XML page .*"<!DOCTYPE html><html><body>Access Denied/],
    ['<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>', /^like an HTML or XML page/],
    ['instrument_token;exchange_token;tradingsymbol\n', /^with "instrument_token;exchange_token;tradingsymbol\\n"$/],
    ['a\u0000b\u0001c', /^with "a\?b\?c"$/],
  ])('%j', (head, want) => {
    expect(describeStart(head)).toMatch(want);
  });
});
