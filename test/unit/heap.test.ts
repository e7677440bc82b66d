// The heap setting is read before src/config.ts loads (workers/heap-preload.cjs); both must read REFDATA_HEAP_GROWTH_PERCENT alike.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
// Plain JavaScript (it runs before tsx): typed here.
const { heapGrowthPercentOf } = require('../../workers/heap-preload.cjs') as { heapGrowthPercentOf(env: NodeJS.ProcessEnv): number };

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
