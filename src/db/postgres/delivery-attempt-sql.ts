// The hot path of a delivery attempt as single statements: the row's change and its stats count in one round trip
// (data-modifying CTEs), so an attempt costs two statements instead of two transactions of four.

/** Hourly buckets in UTC: date_trunc on timestamptz would follow the session's zone (Asia/Kolkata is +05:30). */
export const BUCKET = `date_trunc('hour', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`;

export type Counter = 'deliveries_attempted' | 'deliveries_successful' | 'deliveries_failed';

/** Counts each row of `upd` into its stats bucket and shard (`shardParam`); a success also adds its latency. */
function countRows(counter: Counter, shardParam: string): string {
  const latency = counter === 'deliveries_successful';
  return `INSERT INTO dist.distribution_stats ("timestamp", report_type, channel, shard, ${counter}, total_delivery_time_ms, avg_delivery_time_ms)
    SELECT ${BUCKET}, report_type, channel, ${shardParam}::smallint, 1, ${latency ? 'COALESCE(latency_ms, 0)' : '0'}, ${latency ? 'COALESCE(latency_ms, 0)::double precision' : 'NULL'} FROM upd
    ON CONFLICT ("timestamp", report_type, channel, shard) DO UPDATE SET ${counter} = dist.distribution_stats.${counter} + 1${latency ? `,
      total_delivery_time_ms = dist.distribution_stats.total_delivery_time_ms + EXCLUDED.total_delivery_time_ms,
      avg_delivery_time_ms = (dist.distribution_stats.total_delivery_time_ms + EXCLUDED.total_delivery_time_ms)::double precision
        / (dist.distribution_stats.deliveries_successful + 1)` : ''}`;
}

/** The changed row (changed = true), or, when the update matched nothing, the row as it stands (changed = false). */
function changedOrCurrent(extra: (alias: string) => string = () => ''): string {
  return `SELECT u.*, true AS changed${extra('u')} FROM upd u
    UNION ALL SELECT h.*, false AS changed${extra('h')} FROM dist.delivery_history h WHERE h.delivery_id = $1 AND NOT EXISTS (SELECT 1 FROM upd)`;
}

const attemptLookups = (a: string) =>
  `, (SELECT row_to_json(c) FROM dist.delivery_channels c WHERE c.channel_id = ${a}.channel_id) AS channel_json,
     (SELECT s.status FROM dist.report_subscriptions s WHERE s.subscription_id = ${a}.subscription_id) AS subscription_status`;

/**
 * $1 delivery id, $2 retry count, $3 run id, $4 stats shard. A row this run delivered already is left alone, and so is a
 * row whose channel is paused (channel health): that attempt is not made, so it is neither recorded nor counted.
 */
export const beginAttemptSql = `WITH upd AS (
    UPDATE dist.delivery_history h SET status = 'sending', retry_count = $2, run_id = $3, updated_at = clock_timestamp()
    WHERE delivery_id = $1 AND NOT (status = 'delivered' AND run_id IS NOT DISTINCT FROM $3)
      AND NOT EXISTS (SELECT 1 FROM dist.delivery_channels pc WHERE pc.channel_id = h.channel_id AND pc.paused_at IS NOT NULL) RETURNING *
  ), stat AS (${countRows('deliveries_attempted', '$4')})
  ${changedOrCurrent(attemptLookups)}`;

/** $1 delivery id, $2 stats shard. Counted once: a second call finds the row delivered and changes nothing. */
export const recordDeliveredSql = `WITH upd AS (
    UPDATE dist.delivery_history SET status = 'delivered', delivery_time = clock_timestamp(), updated_at = clock_timestamp(),
      latency_ms = LEAST(2147483647, GREATEST(0, floor(extract(epoch FROM clock_timestamp() - requested_at) * 1000)))
    WHERE delivery_id = $1 AND status <> 'delivered' RETURNING *
  ), stat AS (${countRows('deliveries_successful', '$2')})
  ${changedOrCurrent()}`;

/**
 * $1 delivery id, $2 status, $3 error details, and $4 the stats shard when a final `failed` is counted. A delivered
 * row is never changed; a final status is written (and counted) once.
 */
export function recordFailureSql(status: 'retrying' | 'waiting' | 'failed' | 'cancelled'): string {
  const final = status === 'failed' || status === 'cancelled';
  return `WITH upd AS (
    UPDATE dist.delivery_history SET status = $2, error_details = $3, updated_at = clock_timestamp()
    WHERE delivery_id = $1 AND status NOT IN ('delivered'${final ? ", 'failed', 'cancelled'" : ''}) RETURNING *
  )${status === 'failed' ? `, stat AS (${countRows('deliveries_failed', '$4')})` : ''}
  ${changedOrCurrent()}`;
}
