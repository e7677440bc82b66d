// The guard's decisions: the share of deactivations, F&O presence, the equity minimum, and force.
import { describe, expect, it } from 'vitest';
import { evaluateGuard, guardMessage } from '../../../src/instruments/guard';

const policy = { maxDeactivateShare: 0.2, minEquities: 1000, requireFno: true };
const normal = { activeBefore: 150_000, wouldDeactivate: 2_000, fno: 90_000, equities: 9_000 };

describe('evaluateGuard', () => {
  it('passes an ordinary day', () => {
    expect(evaluateGuard(normal, policy, false)).toEqual({ ...normal, tripped: false, bypassed: false, reasons: [] });
  });

  it('passes exactly the allowed share, trips just above it', () => {
    expect(evaluateGuard({ ...normal, wouldDeactivate: 30_000 }, policy, false).tripped).toBe(false);
    const r = evaluateGuard({ ...normal, wouldDeactivate: 30_001 }, policy, false);
    expect(r.tripped).toBe(true);
    expect(r.reasons).toEqual(['the file would deactivate 30001 of 150000 active instruments (20.0 %, more than the 20.0 % allowed)']);
  });

  it('a first sync (nothing active yet) cannot trip on the share', () => {
    expect(evaluateGuard({ ...normal, activeBefore: 0, wouldDeactivate: 0 }, policy, false).tripped).toBe(false);
  });

  it('trips without F&O (when required) and below the equity minimum, giving every reason', () => {
    const r = evaluateGuard({ ...normal, fno: 0, equities: 10 }, policy, false);
    expect(r.reasons).toEqual(['the file has no F&O instruments (NSE_FO / BSE_FO)', 'the file has 10 equities, fewer than the 1000 required']);
    expect(evaluateGuard({ ...normal, fno: 0 }, { ...policy, requireFno: false }, false).tripped).toBe(false);
  });

  it('force goes past and says so', () => {
    const r = evaluateGuard({ ...normal, wouldDeactivate: 100_000 }, policy, true);
    expect(r).toMatchObject({ tripped: false, bypassed: true });
    expect(r.reasons).toHaveLength(1);
  });

  it('the message says nothing changed and how to force', () => {
    const msg = guardMessage(evaluateGuard({ ...normal, fno: 0 }, policy, false));
    expect(msg).toBe(
      'instrument sync stopped by the guard: the file has no F&O instruments (NSE_FO / BSE_FO). Nothing was changed. ' +
        'Check the source file; if the change is real, run the sync again with force (`refdata sync --force`).',
    );
  });
});
