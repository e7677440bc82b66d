-- Operator notifications (src/notify/): every one raised is kept here, so the dashboard's feed and
-- GET /api/v1/notifications survive a restart, and what went out through the alert channel (REFDATA_ALERT_CHANNEL)
-- is recorded beside it. The id is the notifier's de-duplication key: the same event raised twice (an activity and
-- the ledger watch, or two processes) is one row and is sent once.
-- (Numbered 015: 014 is taken by another branch's migration.)
CREATE TABLE ref.operator_notifications (
  id           varchar(400) PRIMARY KEY,
  raised_at    timestamptz NOT NULL,
  kind         varchar(50) NOT NULL,
  severity     varchar(10) NOT NULL,
  title        varchar(1000) NOT NULL,
  message      text NOT NULL,
  workflow_id  varchar(1000),
  refs         jsonb NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL DEFAULT now(),
  -- The outbound alert: the channel it went to, when, or why it did not (NULL channel: none configured or below the severity).
  sent_channel varchar(20),
  sent_at      timestamptz,
  send_error   text,
  CONSTRAINT ck_operator_notifications_severity CHECK (severity IN ('info', 'warning', 'critical'))
);
-- The read API pages newest first by (raised_at, id); retention deletes by created_at.
CREATE INDEX ix_operator_notifications_raised ON ref.operator_notifications (raised_at, id);
CREATE INDEX ix_operator_notifications_created ON ref.operator_notifications (created_at);
