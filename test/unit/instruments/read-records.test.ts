// What the reader says about a file that is not an instrument master, from its first characters or first record.
import { describe, expect, it } from 'vitest';
import { describeStart, notNdjsonReason } from '../../../src/instruments/read-records';

describe('a file that starts with "{" but is not NDJSON', () => {
  it('a first line that is not JSON on its own is a pretty-printed document', () => {
    expect(notNdjsonReason('{', null)).toMatch(/first line \("\{" alone\) is not a JSON object on its own.*pretty-printed/);
    // Any other first line is not repeated: the file may be anything.
    expect(notNdjsonReason('{"secret": "s3cr3t-value",', null)).not.toMatch(/s3cr3t|secret/);
  });

  it('an object holding a list and no instrument key wraps the instruments', () => {
    const wrapper = { raw: { status: 'success', data: [{ instrument_key: 'NSE_EQ|X' }] } };
    expect(notNdjsonReason('', wrapper)).toBe('its first record holds a list and no instrument_key: it is one JSON object wrapping the instruments (an API response?), not a JSON array or NDJSON of instruments');
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

describe('the start of a file of unknown format is named by its kind, never quoted', () => {
  it.each([
    ['PK\u0003\u0004\u0014\u0000rest', /^a ZIP archive/],
    ['\n  <!DOCTYPE html><html><body>Access Denied</body></html>', /^an HTML page/],
    ['<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>', /^an XML document/],
    ['%PDF-1.7\n%âãÏÓ', /^a PDF document$/],
    ['instrument_token;exchange_token;tradingsymbol\n', /^delimited text that is not comma-separated/],
    ['a,b,c\n1,2,3\n', /^comma-separated text whose first line names no instrument column/],
    ['\u0001\u0002\u0003\u0000\u0004garbage\u0005\u0006\u0007', /^binary data$/],
    ['Ks8x2mQ9c1Jv0lTq3ZrW8yN4hB6dF5gA7eC2iK0oP1s=\n', /^text of no known instrument layout$/],
  ])('%j', (head, want) => {
    const said = describeStart(head);
    expect(said).toMatch(want);
    // No run of the file's own characters survives into the description (bar the column names it advises).
    const advice = ['instrument', 'token', 'tradingsymbol'];
    for (const word of head.split(/[^A-Za-z0-9]+/).filter((w) => w.length >= 4 && !advice.includes(w))) expect(said).not.toContain(word);
  });
});
