-- Rollback of 011 (SQL Server mirror of sql/postgres/011_read_only_role.down.sql).
DELETE FROM ref.api_keys WHERE role = N'read-only';
ALTER TABLE ref.api_keys DROP CONSTRAINT ck_api_keys_role;
ALTER TABLE ref.api_keys ADD CONSTRAINT ck_api_keys_role CHECK (role IN (N'admin', N'operator', N'subscriber'));
