// Retention of the ledgers that grow with every load, sync and delivery: which kinds there are, and the one
// intention each dialect implements. What a kind keeps whatever its age (what a revert or an audit still needs) is
// stated here once; each dialect's SQL follows it.

/**
 * The growing ledgers, in the order the sweep prunes them:
 * - `loads` (ref.loads): keeps loads still loading, loads in effect or back in effect after a revert of the latest
 *   fullload (loaded and at most one loaded fullload of the table finished after them), and the latest load of each table.
 * - `invalidRecords` (ref.invalid_records): keeps the quarantined rows of a kept load (above), and the invalid
 *   records of a sync run still running or staged or of the latest successful sync (an identical file reuses them).
 * - `tracking` (ref.file_monitor_tracking): keeps rows of drops still in flight, and rows of a file a kept load came from.
 * - `syncRuns` (ref.instrument_sync_runs): keeps runs still running or staged, and the latest successful run.
 * - `deliveries` (dist.delivery_history): keeps deliveries not final, and deliveries whose files are still kept
 *   (a distribution run or a registered delivery copy not yet removed: the delivered-file sweep judges by them).
 * - `notifications` (dist.notifications): keeps nothing past its age.
 * - `operatorNotifications` (ref.operator_notifications): keeps nothing past its age.
 */
export const recordKinds = ['loads', 'invalidRecords', 'tracking', 'syncRuns', 'deliveries', 'notifications', 'operatorNotifications'] as const;
export type RecordKind = (typeof recordKinds)[number];

/** Days each kind is kept; 0 keeps all of it. */
export type RecordRetentionDays = Record<RecordKind, number>;

export interface RecordRetentionStore {
  /** Deletes at most `limit` rows of `kind` older than `cutoff` that nothing above keeps; returns how many went. */
  pruneRecords(kind: RecordKind, cutoff: Date, limit: number): Promise<number>;
}

/** Rows deleted per statement, so one sweep over years of history never holds a long lock. */
export const PRUNE_BATCH = 5_000;
