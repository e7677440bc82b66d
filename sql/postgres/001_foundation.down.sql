-- Rollback of 001: drops the ledgers (loaded tables in ref/data/bkp are left alone).
DROP TABLE IF EXISTS ref.invalid_records;
DROP TABLE IF EXISTS ref.loads;
DROP TABLE IF EXISTS ref.reference_data_cfg;
DROP TABLE IF EXISTS ref.file_monitor_tracking;
