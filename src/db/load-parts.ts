// Whether the parts of a load split into byte ranges add up to the whole file, each byte loaded once.
import type { LoadPart } from './types';

/**
 * Why the parts cannot be finished, or null: in file order they must be complete and cover [0, end of the last)
 * without a gap or an overlap, and their rows must add up to the load's.
 */
export function partsProblem(parts: readonly LoadPart[], rowsCommitted: number, fileSize?: number): string | null {
  let at = 0;
  let rows = 0;
  for (const p of parts) {
    if (p.start !== at) return `part ${p.part} starts at byte ${p.start}, not ${at}`;
    if (p.byteOffset !== p.end) return `part ${p.part} is committed up to byte ${p.byteOffset} of ${p.end}`;
    at = p.end;
    rows += p.rows;
  }
  if (fileSize !== undefined && at !== fileSize) return `the parts end at byte ${at} of ${fileSize}`;
  if (rows !== rowsCommitted) return `the parts hold ${rows} rows, the load counts ${rowsCommitted}`;
  return null;
}
