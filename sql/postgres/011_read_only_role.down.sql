-- Rollback of 011: read-only keys are deleted (the older code has no such role) and the role list is restored.
DELETE FROM ref.api_keys WHERE role = 'read-only';
ALTER TABLE ref.api_keys DROP CONSTRAINT ck_api_keys_role;
ALTER TABLE ref.api_keys ADD CONSTRAINT ck_api_keys_role CHECK (role IN ('admin', 'operator', 'subscriber'));
