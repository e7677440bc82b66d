// The V8 heap of a refdata process sized to what it keeps, not to what it allocates. Plain JavaScript so that it
// can run before anything else: first thing in bin/refdata, and as `node --require workers/heap-preload.cjs`
// (the image sets NODE_OPTIONS), which also runs it in every worker thread — the Temporal workflow thread's heap
// follows flags set inside that thread only, not the ones its parent set.
//
// Streaming a file (a sync, an ingest) allocates hundreds of MB per run and keeps a few batches. Left alone, V8
// lets the old generation grow to up to 4x the live data before a full collection, and the young generation of
// each isolate to 3 x 16 MB: an idle ~210 MB sync worker peaked at ~460 MB during a 150,000-instrument sync. This
// is no cap: the heap still grows to whatever is live, so a bigger file is no risk.
'use strict';
const v8 = require('node:v8');

/**
 * REFDATA_HEAP_GROWTH_PERCENT (declared, documented and validated in src/config.ts with the other settings; read
 * here before that module and its schema library load). A value config.ts refuses leaves the default here, and the
 * command then reports it.
 * @param {Record<string, string | undefined>} env
 * @returns {number}
 */
function heapGrowthPercentOf(env) {
  const raw = (env.REFDATA_HEAP_GROWTH_PERCENT ?? '').trim();
  const n = raw ? Number(raw) : NaN;
  return Number.isInteger(n) && n >= 0 && n <= 1000 ? n : 30;
}

/**
 * `growthPercent` > 0: the old generation may grow that much past the live data before the next full collection
 * (V8's --heap-growing-percent), and the young generation keeps its initial size (1 MB semi-spaces: scavenges come
 * sooner, and each costs only what survives it). 0 leaves V8's own sizing. Affects the calling thread's isolate
 * from now on, and those the process creates later except worker threads (which run this file themselves).
 * @param {number} growthPercent
 */
function tuneHeap(growthPercent) {
  if (growthPercent <= 0) return;
  v8.setFlagsFromString(`--heap-growing-percent=${Math.round(growthPercent)}`);
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}

/**
 * One full, compacting collection now. A worker's start (the workflow bundle read once per task queue, protobuf
 * schemas, the SDK's option compilation) leaves ~40 MB of garbage that no collection would reclaim for as long as
 * the worker idles — its heap is not yet at the size that triggers one — so RSS would stay that much higher before
 * the first file. `gc` exists only under --expose-gc: the flag is set just long enough to fetch it from a fresh
 * context, so no later context (a workflow sandbox among them) sees it.
 */
function collectGarbageNow() {
  v8.setFlagsFromString('--expose-gc');
  try {
    require('node:vm').runInNewContext('gc')();
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}

tuneHeap(heapGrowthPercentOf(process.env));

module.exports = { heapGrowthPercentOf, tuneHeap, collectGarbageNow };
