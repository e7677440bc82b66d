// PostgreSQL text for the ledgers' retention (src/db/record-retention.ts says what each kind keeps).
// Each statement deletes at most $2 rows older than $1 and returns nothing but its row count.
import type { RecordKind } from '../record-retention';

/** Same table as load `l`. */
const sameTable = (a: string, l: string) => `${a}.target_schema = ${l}.target_schema AND ${a}.target_table = ${l}.target_table`;

/** Load `l` is still needed: loading, in effect (or again after reverting the latest fullload), or its table's latest. */
export const keptLoad = (l: string) => `(${l}.status = 'loading'
    OR (${l}.status = 'loaded' AND (SELECT count(*) FROM ref.loads f WHERE ${sameTable('f', l)} AND f.mode = 'fullload' AND f.status = 'loaded' AND f.finished_at > ${l}.finished_at) < 2)
    OR NOT EXISTS (SELECT 1 FROM ref.loads n WHERE ${sameTable('n', l)} AND (n.started_at > ${l}.started_at OR (n.started_at = ${l}.started_at AND n.load_id > ${l}.load_id))))`;

const LATEST_SUCCEEDED_SYNC = `(SELECT run_id FROM ref.instrument_sync_runs WHERE status = 'succeeded' ORDER BY applied_at DESC NULLS LAST LIMIT 1)`;

const FINAL_FILE_STATUSES = `('loaded', 'error', 'cancelled', 'duplicate', 'vanished')`;

export const pruneSql: Record<RecordKind, string> = {
  loads: `DELETE FROM ref.loads WHERE load_id IN (
  SELECT l.load_id FROM ref.loads l WHERE COALESCE(l.finished_at, l.started_at) < $1 AND NOT ${keptLoad('l')} LIMIT $2)`,

  invalidRecords: `DELETE FROM ref.invalid_records WHERE id IN (
  SELECT i.id FROM ref.invalid_records i
   WHERE i.created_at < $1
     AND NOT (i.source = 'file' AND EXISTS (SELECT 1 FROM ref.loads l WHERE l.load_id = i.source_ref AND ${keptLoad('l')}))
     AND NOT (i.source = 'instrument_sync' AND EXISTS (
           SELECT 1 FROM ref.instrument_sync_runs r WHERE r.run_id = i.source_ref AND (r.status IN ('running', 'staged') OR r.run_id = ${LATEST_SUCCEEDED_SYNC})))
   LIMIT $2)`,

  tracking: `DELETE FROM ref.file_monitor_tracking WHERE id IN (
  SELECT t.id FROM ref.file_monitor_tracking t
   WHERE t.created_at < $1 AND t.status IN ${FINAL_FILE_STATUSES}
     AND NOT EXISTS (SELECT 1 FROM ref.loads l WHERE l.file_path = t.file_path AND ${keptLoad('l')})
   LIMIT $2)`,

  syncRuns: `DELETE FROM ref.instrument_sync_runs WHERE run_id IN (
  SELECT r.run_id FROM ref.instrument_sync_runs r
   WHERE r.started_at < $1 AND r.status NOT IN ('running', 'staged') AND r.run_id IS DISTINCT FROM ${LATEST_SUCCEEDED_SYNC}
   LIMIT $2)`,

  deliveries: `DELETE FROM dist.delivery_history WHERE id IN (
  SELECT h.id FROM dist.delivery_history h
   WHERE h.updated_at < $1 AND h.status IN ('delivered', 'failed', 'cancelled')
     AND NOT EXISTS (SELECT 1 FROM dist.distribution_runs r WHERE r.run_id = h.report_id AND r.files_removed_at IS NULL)
     AND NOT EXISTS (SELECT 1 FROM dist.delivery_files f WHERE f.report_id = h.report_id AND (f.delivery_id IS NULL OR f.delivery_id = h.delivery_id) AND f.removed_at IS NULL)
   LIMIT $2)`,

  notifications: `DELETE FROM dist.notifications WHERE id IN (SELECT id FROM dist.notifications WHERE created_at < $1 LIMIT $2)`,

  operatorNotifications: `DELETE FROM ref.operator_notifications WHERE id IN (SELECT id FROM ref.operator_notifications WHERE created_at < $1 LIMIT $2)`,
};
