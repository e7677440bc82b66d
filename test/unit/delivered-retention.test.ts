// Which delivered files may go: writer done, no open delivery, retention counted from the later of written / last final.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { distributionRunPaths, retentionVerdict, type RetentionFacts } from '../../src/delivered-retention';

const DAY = 24 * 60 * 60 * 1000;
const t0 = new Date('2025-01-01T00:00:00Z');
const at = (days: number) => new Date(t0.getTime() + days * DAY);
const facts = (over: Partial<RetentionFacts> = {}, deliveries: Partial<RetentionFacts['deliveries']> = {}): RetentionFacts => ({
  writtenAt: t0,
  writerDone: true,
  defaultRetentionDays: 90,
  ...over,
  deliveries: { total: 1, open: 0, lastFinalAt: t0, retentionDays: 30, ...deliveries },
});

describe('retentionVerdict', () => {
  it.each([
    ['a run still writing is kept whatever its age', facts({ writerDone: false }), at(1000), { remove: false, reason: 'writing' }],
    ['an open delivery holds the file however old it is', facts({}, { open: 1 }), at(1000), { remove: false, reason: 'deliveries-open' }],
    ['retention counts from the last delivery final, not from writing', facts({}, { lastFinalAt: at(10) }), at(39), { remove: false, reason: 'not-yet' }],
    ['the deliveries\' retention_days wins over the default', facts({}, { retentionDays: 30 }), at(30), { remove: true }],
    ['without deliveries the default applies', facts({}, { total: 0, lastFinalAt: null, retentionDays: null }), at(89), { remove: false, reason: 'not-yet' }],
    ['without deliveries the default applies, and expires', facts({}, { total: 0, lastFinalAt: null, retentionDays: null }), at(90), { remove: true }],
    ['retention 0 keeps the file', facts({}, { retentionDays: 0 }), at(1000), { remove: false, reason: 'kept' }],
    ['keepAll (configured 0) wins over what deliveries carry', facts({ keepAll: true }), at(1000), { remove: false, reason: 'kept' }],
    ['a delivery final before the file was written counts from the writing', facts({ writtenAt: at(5) }, { lastFinalAt: t0 }), at(34), { remove: false, reason: 'not-yet' }],
  ] as const)('%s', (_name, f, now, want) => {
    expect(retentionVerdict(f, now)).toMatchObject(want);
  });

  it('says when a kept file expires, and when a removed one did', () => {
    expect(retentionVerdict(facts({}, { lastFinalAt: at(10) }), at(11))).toEqual({ remove: false, reason: 'not-yet', expiresAt: at(40) });
    expect(retentionVerdict(facts({}, { lastFinalAt: at(10) }), at(41))).toEqual({ remove: true, expiredAt: at(40) });
  });
});

describe('distributionRunPaths', () => {
  it('names each recorded file in the run folder and in its backup folder', () => {
    expect(distributionRunPaths({ directory: '/d/20250621', backupDirectory: '/b/20250621', fileNames: ['20250621_full.csv', '20250621_manifest.json'] }, path.posix.join)).toEqual([
      '/d/20250621/20250621_full.csv', '/b/20250621/20250621_full.csv', '/d/20250621/20250621_manifest.json', '/b/20250621/20250621_manifest.json',
    ]);
  });

  it('skips a recorded name that is not a plain file name: the row is data, never a path to follow', () => {
    expect(distributionRunPaths({ directory: '/d/x', backupDirectory: '/b/x', fileNames: ['../../etc/passwd', 'a/b.csv', '..', '.', '', 'ok.csv'] }, path.posix.join)).toEqual([
      '/d/x/ok.csv', '/b/x/ok.csv',
    ]);
  });
});
