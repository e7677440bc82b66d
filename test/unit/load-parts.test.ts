// The arithmetic of a load split into byte ranges: where the cuts go, and when the ranges add up to the whole file.
import { describe, expect, it } from 'vitest';
import { cutOffsets } from '../../activities/parallel-ingest';
import { partsProblem } from '../../src/db/load-parts';
import type { LoadPart } from '../../src/db/types';

const part = (p: number, start: number, end: number, byteOffset = end, rows = 10): LoadPart => ({ part: p, start, end, byteOffset, rows });

describe('cutOffsets', () => {
  it('spaces the cuts evenly over the data after the header', () => {
    expect(cutOffsets(100, 1100, 4)).toEqual([350, 600, 850]);
    expect(cutOffsets(0, 10, 2)).toEqual([5]);
    expect(cutOffsets(0, 10, 1)).toEqual([]);
  });
});

describe('partsProblem', () => {
  it('accepts complete, contiguous ranges from byte 0 whose rows add up', () => {
    expect(partsProblem([part(0, 0, 50), part(1, 50, 90), part(2, 90, 120)], 30, 120)).toBeNull();
  });

  it('names a gap, an overlap, an incomplete range, a short cover and rows that do not add up', () => {
    expect(partsProblem([part(0, 0, 50), part(1, 60, 90)], 20)).toMatch(/part 1 starts at byte 60, not 50/);
    expect(partsProblem([part(0, 0, 50), part(1, 40, 90)], 20)).toMatch(/part 1 starts at byte 40, not 50/);
    expect(partsProblem([part(0, 0, 50), part(1, 50, 90, 70)], 20)).toMatch(/part 1 is committed up to byte 70 of 90/);
    expect(partsProblem([part(0, 0, 50), part(1, 50, 90)], 20, 100)).toMatch(/end at byte 90 of 100/);
    expect(partsProblem([part(0, 0, 50), part(1, 50, 90)], 21)).toMatch(/hold 20 rows, the load counts 21/);
    expect(partsProblem([part(0, 10, 50)], 10)).toMatch(/part 0 starts at byte 10, not 0/);
  });
});
