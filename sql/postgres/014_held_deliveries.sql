-- Deliveries of SCHEDULED, ON_DEMAND and TRIGGERED subscriptions are kept until released (by the subscription's
-- schedule, a deliver-now call, or one of its trigger events): held_for says which kind held it, released_at when its
-- run was started. Rows of REAL_TIME subscriptions keep both NULL and start at once, as before.
ALTER TABLE dist.delivery_history ADD COLUMN held_for varchar(20);
ALTER TABLE dist.delivery_history ADD COLUMN released_at timestamptz;
CREATE INDEX ix_delivery_history_held ON dist.delivery_history (subscription_id, created_at) WHERE held_for IS NOT NULL AND released_at IS NULL;
