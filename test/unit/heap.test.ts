// The heap setting is read before src/config.ts loads (workers/heap-preload.cjs); both must read REFDATA_HEAP_GROWTH_PERCENT alike.
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
// Plain JavaScript (it runs before tsx): typed here.
const { heapGrowthPercentOf, collectGarbageNow } = require('../../workers/heap-preload.cjs') as {
  heapGrowthPercentOf(env: NodeJS.ProcessEnv): number;
  collectGarbageNow(): void;
};

describe('heapGrowthPercentOf', () => {
  it.each([undefined, '', '0', '30', ' 45 ', '1000'])('reads %j as loadConfig does', (value) => {
    const env = value === undefined ? {} : { REFDATA_HEAP_GROWTH_PERCENT: value };
    expect(heapGrowthPercentOf(env)).toBe(loadConfig(env).heapGrowthPercent);
  });

  it.each(['-1', '2.5', 'lots', '1001'])('leaves the default for %j, which loadConfig refuses', (value) => {
    expect(heapGrowthPercentOf({ REFDATA_HEAP_GROWTH_PERCENT: value })).toBe(loadConfig({}).heapGrowthPercent);
    expect(() => loadConfig({ REFDATA_HEAP_GROWTH_PERCENT: value })).toThrow();
  });
});

describe('collectGarbageNow', () => {
  it('frees unreachable memory, and leaves no `gc` in contexts made afterwards (workflow sandboxes among them)', () => {
    let garbage: number[][] | null = Array.from({ length: 200 }, () => Array.from({ length: 10_000 }, (_, i) => i + 0.5));
    const withGarbage = process.memoryUsage().heapUsed;
    garbage = null;
    collectGarbageNow();
    expect(garbage).toBeNull();
    // 200 × 10,000 doubles ≈ 16 MB were reachable before and are not now.
    expect(withGarbage - process.memoryUsage().heapUsed).toBeGreaterThan(8 * 1024 * 1024);
    expect(vm.runInNewContext('typeof gc')).toBe('undefined');
  });
});
