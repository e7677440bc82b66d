-- Rollback of 002: drops the instrument master, its sync reports and any leftover staging tables.
DO $$
DECLARE t record;
BEGIN
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'ref' AND tablename LIKE 'instrument\_stage\_%' LOOP
    EXECUTE format('DROP TABLE IF EXISTS ref.%I', t.tablename);
  END LOOP;
END
$$;
DROP TABLE IF EXISTS ref.instrument_sync_runs;
DROP TABLE IF EXISTS ref.instruments;
DELETE FROM ref.invalid_records WHERE source = 'instrument_sync';
