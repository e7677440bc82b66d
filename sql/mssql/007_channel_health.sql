-- Channel health (SQL Server mirror of sql/postgres/007_channel_health.sql). One batch inside a transaction, without
-- GO: nothing below may name a new column outside its own ALTER, since the batch is compiled before they exist.
-- One column per ALTER: the same on SQL Server as one multi-column ADD, and Babelfish accepts only this form.
ALTER TABLE dist.delivery_channels ADD health_status        nvarchar(20) NOT NULL CONSTRAINT df_delivery_channels_health DEFAULT N'healthy'
    CONSTRAINT ck_delivery_channels_health CHECK (health_status IN (N'healthy', N'unhealthy'));
ALTER TABLE dist.delivery_channels ADD consecutive_failures int NOT NULL CONSTRAINT df_delivery_channels_failures DEFAULT 0;
ALTER TABLE dist.delivery_channels ADD last_failure_at      datetime2 NULL;
ALTER TABLE dist.delivery_channels ADD last_error           nvarchar(max) NULL;
ALTER TABLE dist.delivery_channels ADD last_success_at      datetime2 NULL;
ALTER TABLE dist.delivery_channels ADD paused_at            datetime2 NULL;
ALTER TABLE dist.delivery_channels ADD next_probe_at        datetime2 NULL;
ALTER TABLE dist.delivery_channels ADD probe_attempts       int NOT NULL CONSTRAINT df_delivery_channels_probe_attempts DEFAULT 0;
ALTER TABLE dist.delivery_channels ADD last_probe_at        datetime2 NULL;
ALTER TABLE dist.delivery_channels ADD last_probe_error     nvarchar(max) NULL;
ALTER TABLE dist.delivery_channels ADD disabled_at          datetime2 NULL;

ALTER TABLE dist.delivery_history DROP CONSTRAINT ck_delivery_history_status;
ALTER TABLE dist.delivery_history ADD CONSTRAINT ck_delivery_history_status
  CHECK (status IN (N'pending', N'sending', N'retrying', N'waiting', N'delivered', N'failed', N'cancelled'));
