// Report breakdowns folded from per-(segment, type) counts.
import { describe, expect, it } from 'vitest';
import { breakdownsOf, summaryLine, totalsOf } from '../../../src/instruments/report';

describe('report breakdowns', () => {
  const groups = [
    { segment: 'NSE_FO', instrumentType: 'CE', added: 3, activeBefore: 10 },
    { segment: 'NSE_FO', instrumentType: 'PE', deactivated: 2, activeBefore: 8 },
    { segment: 'NSE_EQ', instrumentType: 'EQ', updated: 1, unchanged: 4 },
    { segment: null, instrumentType: null, added: 1 },
    { segment: 'NSE_FO', instrumentType: 'CE', activeAfter: 13 },
  ];

  it('sums per segment and per type, unnamed ones under (none), keys sorted', () => {
    const { bySegment, byType } = breakdownsOf(groups);
    expect(Object.keys(bySegment)).toEqual(['(none)', 'NSE_EQ', 'NSE_FO']);
    expect(bySegment.NSE_FO).toEqual({ activeBefore: 18, activeAfter: 13, added: 3, updated: 0, unchanged: 0, reactivated: 0, deactivated: 2 });
    expect(byType.CE).toMatchObject({ added: 3, activeBefore: 10, activeAfter: 13 });
    expect(byType['(none)']).toMatchObject({ added: 1 });
  });

  it('totals every count', () => {
    expect(totalsOf(groups)).toEqual({ activeBefore: 18, activeAfter: 13, added: 4, updated: 1, unchanged: 4, reactivated: 0, deactivated: 2 });
  });

  it('reads as one line', () => {
    expect(summaryLine({ added: 4, updated: 1, unchanged: 4, deactivated: 2, reactivated: 0, invalid: 3, activeAfter: 13 })).toBe(
      '4 added, 1 updated, 4 unchanged, 2 deactivated, 0 reactivated, 3 invalid; 13 active',
    );
  });
});
