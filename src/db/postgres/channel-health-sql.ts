// Channel health on PostgreSQL: each change is one statement that locks the channel row (FOR UPDATE in a CTE) so it can
// say what it changed (became unhealthy, recovered) from the row as it was. Times from the database clock.

/** `$n` milliseconds from now. */
const fromNow = (param: string) => `clock_timestamp() + ${param}::int * interval '1 millisecond'`;

/** The failure being recorded makes it `unhealthy-after` in a row ($3, 0 = never), and no success for $5 ms. */
const reaches = `$3::int > 0 AND c.consecutive_failures + 1 >= $3::int
      AND (c.last_success_at IS NULL OR c.last_success_at <= clock_timestamp() - $5::int * interval '1 millisecond')`;

/** $1 channel id, $2 error, $3 unhealthy-after (0 = never), $4 first probe in ms, $5 quiet ms (no success for that long). */
export const recordChannelFailureSql = `WITH prev AS (SELECT channel_id, paused_at FROM dist.delivery_channels WHERE channel_id = $1 FOR UPDATE)
  UPDATE dist.delivery_channels c SET
    consecutive_failures = c.consecutive_failures + 1,
    last_failure_at = clock_timestamp(),
    last_error = $2,
    health_status = CASE WHEN ${reaches} THEN 'unhealthy' ELSE c.health_status END,
    paused_at = CASE WHEN c.paused_at IS NULL AND ${reaches} THEN clock_timestamp() ELSE c.paused_at END,
    next_probe_at = CASE WHEN c.paused_at IS NULL AND ${reaches} THEN ${fromNow('$4')} ELSE c.next_probe_at END,
    probe_attempts = CASE WHEN c.paused_at IS NULL AND ${reaches} THEN 0 ELSE c.probe_attempts END,
    updated_at = clock_timestamp()
  FROM prev WHERE c.channel_id = prev.channel_id
  RETURNING c.*, (prev.paused_at IS NULL AND c.paused_at IS NOT NULL) AS became_unhealthy`;

const healthy = `consecutive_failures = 0, health_status = 'healthy', paused_at = NULL, next_probe_at = NULL, probe_attempts = 0`;

/**
 * $1 channel id. Only rows with something to change are locked and written: a healthy channel whose last success is
 * under a second old is left alone, so concurrent deliveries to one busy channel do not queue on its row.
 */
export const recordChannelSuccessSql = `WITH prev AS (
    SELECT channel_id, paused_at, health_status FROM dist.delivery_channels
    WHERE channel_id = $1 AND (consecutive_failures <> 0 OR paused_at IS NOT NULL OR health_status <> 'healthy'
      OR last_success_at IS NULL OR last_success_at < clock_timestamp() - interval '1 second')
    FOR UPDATE
  )
  UPDATE dist.delivery_channels c SET ${healthy}, last_success_at = clock_timestamp(), updated_at = clock_timestamp()
  FROM prev WHERE c.channel_id = prev.channel_id
  RETURNING c.*, (prev.paused_at IS NOT NULL OR prev.health_status <> 'healthy') AS recovered`;

/** $1 channel id, $2 'probe' | 'operator'. */
export const markChannelHealthySql = `WITH prev AS (SELECT channel_id, paused_at, health_status FROM dist.delivery_channels WHERE channel_id = $1 FOR UPDATE)
  UPDATE dist.delivery_channels c SET ${healthy},
    last_probe_at = CASE WHEN $2 = 'probe' THEN clock_timestamp() ELSE c.last_probe_at END,
    last_probe_error = CASE WHEN $2 = 'probe' THEN NULL ELSE c.last_probe_error END,
    updated_at = clock_timestamp()
  FROM prev WHERE c.channel_id = prev.channel_id
  RETURNING c.*, (prev.paused_at IS NOT NULL OR prev.health_status <> 'healthy') AS recovered`;

/** $1 channel id, $2 error, $3 next probe in ms. */
export const recordProbeFailureSql = `UPDATE dist.delivery_channels SET probe_attempts = probe_attempts + 1, last_probe_at = clock_timestamp(),
    last_probe_error = $2, next_probe_at = ${fromNow('$3')}, updated_at = clock_timestamp()
  WHERE channel_id = $1 AND paused_at IS NOT NULL RETURNING *`;

/** $1 channel id, $2 stored config as JSON text or NULL (kept), $3 enabled or NULL (kept), $4 reason when switched off. */
export const updateChannelSql = `UPDATE dist.delivery_channels SET
    channel_config = COALESCE($2::jsonb, channel_config),
    enabled = COALESCE($3::boolean, enabled),
    disabled_reason = CASE WHEN $3::boolean THEN NULL WHEN NOT $3::boolean AND enabled THEN $4 ELSE disabled_reason END,
    disabled_at = CASE WHEN $3::boolean THEN NULL WHEN NOT $3::boolean AND enabled THEN clock_timestamp() ELSE disabled_at END,
    updated_at = clock_timestamp()
  WHERE channel_id = $1 RETURNING *`;
