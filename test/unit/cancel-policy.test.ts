import { describe, expect, it } from 'vitest';
import { cancelRefusal } from '../../src/cancel-policy';

describe('whether a file run can still be cancelled', () => {
  it.each(['waiting', 'planning', 'loading'] as const)('%s: yes (the compensation removes what was loaded)', (phase) => {
    expect(cancelRefusal(7, phase, 'ld_1')).toBeNull();
  });

  it('no phase known (the query failed): the cancel is sent', () => {
    expect(cancelRefusal(7, null, null)).toBeNull();
  });

  it.each(['finishing', 'archiving'] as const)('%s: too late, and the caller is told how to undo the load', (phase) => {
    const r = cancelRefusal(7, phase, 'ld_1');
    expect(r?.code).toBe('TOO_LATE');
    expect(r?.message).toContain(`file 7 is ${phase}`);
    expect(r?.message).toContain('POST /api/v1/loads/ld_1/revert');
  });

  it('compensating: already being undone', () => {
    expect(cancelRefusal(7, 'compensating', null)?.code).toBe('ALREADY_UNDOING');
  });
});
