-- SQL Server mirror of sql/postgres/015_operator_notifications.sql.
CREATE TABLE ref.operator_notifications (
  id           nvarchar(400) NOT NULL CONSTRAINT pk_operator_notifications PRIMARY KEY,
  raised_at    datetime2 NOT NULL,
  kind         nvarchar(50) NOT NULL,
  severity     nvarchar(10) NOT NULL,
  title        nvarchar(1000) NOT NULL,
  message      nvarchar(max) NOT NULL,
  workflow_id  nvarchar(1000) NULL,
  refs         nvarchar(max) NOT NULL CONSTRAINT df_operator_notifications_refs DEFAULT N'{}' CONSTRAINT ck_operator_notifications_refs CHECK (ISJSON(refs) = 1),
  created_at   datetime2 NOT NULL CONSTRAINT df_operator_notifications_created_at DEFAULT SYSUTCDATETIME(),
  sent_channel nvarchar(20) NULL,
  sent_at      datetime2 NULL,
  send_error   nvarchar(max) NULL,
  CONSTRAINT ck_operator_notifications_severity CHECK (severity IN ('info', 'warning', 'critical'))
);
CREATE INDEX ix_operator_notifications_raised ON ref.operator_notifications (raised_at, id);
CREATE INDEX ix_operator_notifications_created ON ref.operator_notifications (created_at);
