// The V8 heap of a refdata process sized to what it keeps, not to what it allocates: streaming a file (a sync, an
// ingest) allocates hundreds of MB per run and keeps a few batches. Left alone, V8 lets the old generation grow to
// up to 4× the live data before a full collection, and the young generation to 3 × 16 MB, so an idle ~210 MB
// sync worker peaked at ~460 MB during a 150,000-instrument sync. This is no cap: the heap still grows to whatever
// is live, so a bigger file is no risk.
import v8 from 'node:v8';

/**
 * `growthPercent` > 0: the old generation may grow that much past the live data before the next full
 * collection (V8's --heap-growing-percent), and the young generation keeps its initial size (1 MB semi-spaces:
 * scavenges come sooner and each costs only what survives it). 0 leaves V8's own sizing. Process-wide, and
 * called first thing (bin/refdata): a young generation that grew while modules loaded stays grown. Isolates
 * created afterwards (the workflow thread) are sized the same way.
 */
export function tuneHeap(growthPercent: number): void {
  if (growthPercent <= 0) return;
  v8.setFlagsFromString(`--heap-growing-percent=${Math.round(growthPercent)}`);
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}

/**
 * REFDATA_HEAP_GROWTH_PERCENT, read before src/config.ts loads (its schema library alone would grow the young
 * generation first). config.ts declares, documents and validates the same variable; a value it would refuse
 * leaves the default here, and the command then reports it.
 */
export function heapGrowthPercentOf(env: NodeJS.ProcessEnv): number {
  const raw = env.REFDATA_HEAP_GROWTH_PERCENT?.trim();
  const n = raw ? Number(raw) : NaN;
  return Number.isInteger(n) && n >= 0 && n <= 1000 ? n : 30;
}
