-- A read-only API key role for dashboards and scrapers: reads the operations side (files, loads, instruments,
-- distribution runs, metrics, the API document), changes nothing, and sees no subscriber's data.
ALTER TABLE ref.api_keys DROP CONSTRAINT ck_api_keys_role;
ALTER TABLE ref.api_keys ADD CONSTRAINT ck_api_keys_role CHECK (role IN ('admin', 'operator', 'subscriber', 'read-only'));
