// Requests for an intraday delta and how they collapse while the debouncer waits. Pure and free of Node APIs: the
// intraday-deltas workflow uses it.

/** What changed rows and asks for a delta: a sync run or a file load, named by its id. */
export interface IntradayChange {
  source: 'instrument-sync' | 'file-load';
  /** The sync's run id or the load id: a retried request with the same ref counts once. */
  ref: string;
  /** Rows it changed that the delta covers (instruments added, changed, deactivated, reactivated; invalid rows). */
  rows: number;
}

/** The requests one run will answer. */
export interface PendingChanges {
  requests: number;
  rows: number;
  /** The refs, oldest first (for the run's summary; bounded). */
  refs: string[];
}

/** How many refs a debouncer remembers to drop repeated requests; a retry arrives within seconds, not hundreds of requests later. */
export const REMEMBERED_REFS = 200;

/**
 * Adds a request to what is pending; `seen` (refs already counted, oldest first) drops a repeated one. Returns the
 * new pending changes, or the same object when the request was a repeat.
 */
export function addChange(pending: PendingChanges | null, seen: string[], change: IntradayChange): PendingChanges | null {
  if (seen.includes(change.ref)) return pending;
  seen.push(change.ref);
  if (seen.length > REMEMBERED_REFS) seen.splice(0, seen.length - REMEMBERED_REFS);
  const base = pending ?? { requests: 0, rows: 0, refs: [] };
  return { requests: base.requests + 1, rows: base.rows + change.rows, refs: [...base.refs, change.ref].slice(-20) };
}

/** Two batches as one (a run that did not happen gives its requests back to the next one). */
export function mergePending(a: PendingChanges | null, b: PendingChanges | null): PendingChanges | null {
  if (!a) return b;
  if (!b) return a;
  return { requests: a.requests + b.requests, rows: a.rows + b.rows, refs: [...a.refs, ...b.refs].slice(-20) };
}
