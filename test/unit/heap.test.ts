// The heap setting is read before src/config.ts loads; both must read REFDATA_HEAP_GROWTH_PERCENT alike.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { heapGrowthPercentOf } from '../../workers/heap';

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
