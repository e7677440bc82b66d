// How requests for an intraday delta collapse while the debouncer waits, and the settings that turn it on.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config';
import { REMEMBERED_REFS, addChange, mergePending } from '../../../src/distribution/intraday-requests';

describe('addChange', () => {
  it('adds requests and their rows; a repeated ref counts once', () => {
    const seen: string[] = [];
    let p = addChange(null, seen, { source: 'instrument-sync', ref: 'a', rows: 5 });
    p = addChange(p, seen, { source: 'file-load', ref: 'b', rows: 2 });
    p = addChange(p, seen, { source: 'instrument-sync', ref: 'a', rows: 5 });
    expect(p).toEqual({ requests: 2, rows: 7, refs: ['a', 'b'] });
    expect(seen).toEqual(['a', 'b']);
  });

  it('a repeat of a ref already answered (nothing pending) makes nothing pending', () => {
    const seen = ['a'];
    expect(addChange(null, seen, { source: 'instrument-sync', ref: 'a', rows: 1 })).toBeNull();
  });

  it('remembers a bounded number of refs, the newest', () => {
    const seen: string[] = [];
    let p = null;
    for (let i = 0; i < REMEMBERED_REFS + 5; i++) p = addChange(p, seen, { source: 'file-load', ref: `r${i}`, rows: 1 });
    expect(seen).toHaveLength(REMEMBERED_REFS);
    expect(seen[0]).toBe('r5');
    expect(p!.requests).toBe(REMEMBERED_REFS + 5);
    expect(p!.refs).toHaveLength(20);
  });
});

describe('mergePending', () => {
  it('gives a batch that was not answered back to the next one', () => {
    expect(mergePending({ requests: 1, rows: 3, refs: ['a'] }, { requests: 2, rows: 1, refs: ['b', 'c'] })).toEqual({ requests: 3, rows: 4, refs: ['a', 'b', 'c'] });
    expect(mergePending(null, null)).toBeNull();
    expect(mergePending({ requests: 1, rows: 3, refs: ['a'] }, null)).toEqual({ requests: 1, rows: 3, refs: ['a'] });
  });
});

describe('intraday settings', () => {
  it('are off by default with a 5-minute window; the environment turns them on and sets the window', () => {
    expect(loadConfig({}).distribution.intraday).toEqual({ enabled: false, debounceMs: 300_000 });
    expect(loadConfig({ REFDATA_INTRADAY_DELTAS: 'true', REFDATA_INTRADAY_DEBOUNCE_SECONDS: '20' }).distribution.intraday).toEqual({ enabled: true, debounceMs: 20_000 });
    expect(() => loadConfig({ REFDATA_INTRADAY_DEBOUNCE_SECONDS: '-1' })).toThrow(/REFDATA_INTRADAY_DEBOUNCE_SECONDS/);
    expect(() => loadConfig({ REFDATA_INTRADAY_DELTAS: 'yes' })).toThrow(/REFDATA_INTRADAY_DELTAS/);
  });
});
