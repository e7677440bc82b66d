// SQL Server text for the ledgers' retention (src/db/record-retention.ts says what each kind keeps): each statement
// deletes at most @limit rows older than @cutoff, then answers how many.
import type { RecordKind } from '../record-retention';
import { datetimeParam, intParam, type Statement } from './statement';

const sameTable = (a: string, l: string) => `${a}.target_schema = ${l}.target_schema AND ${a}.target_table = ${l}.target_table`;

/** Load `l` is still needed: loading, in effect (or again after reverting the latest fullload), or its table's latest. */
export const keptLoad = (l: string) => `(${l}.status = N'loading'
    OR (${l}.status = N'loaded' AND (SELECT COUNT(*) FROM ref.loads f WHERE ${sameTable('f', l)} AND f.mode = N'fullload' AND f.status = N'loaded' AND f.finished_at > ${l}.finished_at) < 2)
    OR NOT EXISTS (SELECT 1 FROM ref.loads n WHERE ${sameTable('n', l)} AND (n.started_at > ${l}.started_at OR (n.started_at = ${l}.started_at AND n.load_id > ${l}.load_id))))`;

// DESC puts NULLs last on SQL Server.
const LATEST_SUCCEEDED_SYNC = `(SELECT TOP (1) run_id FROM ref.instrument_sync_runs WHERE status = N'succeeded' ORDER BY applied_at DESC)`;

const prune: Record<RecordKind, string> = {
  loads: `DELETE FROM ref.loads WHERE load_id IN (
  SELECT TOP (@limit) l.load_id FROM ref.loads l WHERE COALESCE(l.finished_at, l.started_at) < @cutoff AND NOT ${keptLoad('l')})`,

  invalidRecords: `DELETE FROM ref.invalid_records WHERE id IN (
  SELECT TOP (@limit) i.id FROM ref.invalid_records i
   WHERE i.created_at < @cutoff
     AND NOT (i.source = N'file' AND EXISTS (SELECT 1 FROM ref.loads l WHERE l.load_id = i.source_ref AND ${keptLoad('l')}))
     AND NOT (i.source = N'instrument_sync' AND EXISTS (
           SELECT 1 FROM ref.instrument_sync_runs r WHERE r.run_id = i.source_ref AND (r.status IN (N'running', N'staged') OR r.run_id = ${LATEST_SUCCEEDED_SYNC}))))`,

  tracking: `DELETE FROM ref.file_monitor_tracking WHERE id IN (
  SELECT TOP (@limit) t.id FROM ref.file_monitor_tracking t
   WHERE t.created_at < @cutoff AND t.status IN (N'loaded', N'error', N'cancelled', N'duplicate', N'vanished')
     AND NOT EXISTS (SELECT 1 FROM ref.loads l WHERE l.file_path = t.file_path AND ${keptLoad('l')}))`,

  syncRuns: `DELETE FROM ref.instrument_sync_runs WHERE run_id IN (
  SELECT TOP (@limit) r.run_id FROM ref.instrument_sync_runs r
   WHERE r.started_at < @cutoff AND r.status NOT IN (N'running', N'staged')
     AND NOT EXISTS (SELECT 1 WHERE r.run_id = ${LATEST_SUCCEEDED_SYNC}))`,

  deliveries: `DELETE FROM dist.delivery_history WHERE id IN (
  SELECT TOP (@limit) h.id FROM dist.delivery_history h
   WHERE h.updated_at < @cutoff AND h.status IN (N'delivered', N'failed', N'cancelled')
     AND NOT EXISTS (SELECT 1 FROM dist.distribution_runs r WHERE r.run_id = h.report_id AND r.files_removed_at IS NULL)
     AND NOT EXISTS (SELECT 1 FROM dist.delivery_files f WHERE f.report_id = h.report_id AND (f.delivery_id IS NULL OR f.delivery_id = h.delivery_id) AND f.removed_at IS NULL))`,

  notifications: `DELETE FROM dist.notifications WHERE id IN (SELECT TOP (@limit) id FROM dist.notifications WHERE created_at < @cutoff)`,

  operatorNotifications: `DELETE FROM ref.operator_notifications WHERE id IN (SELECT TOP (@limit) id FROM ref.operator_notifications WHERE created_at < @cutoff)`,
};

export function pruneRecordsSql(kind: RecordKind, cutoff: Date, limit: number): Statement {
  return { text: `${prune[kind]};\nSELECT @@ROWCOUNT AS n;`, params: { cutoff: datetimeParam(cutoff), limit: intParam(limit) } };
}
