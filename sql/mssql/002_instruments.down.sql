-- Rollback of 002: drops the instrument master, its sync reports and any leftover staging tables (one batch).
DECLARE @drop nvarchar(max) = N'';
SELECT @drop = @drop + N'DROP TABLE ref.' + QUOTENAME(t.name) + N';'
FROM sys.tables t JOIN sys.schemas s ON s.schema_id = t.schema_id
WHERE s.name = N'ref' AND t.name LIKE N'instrument[_]stage[_]%';
EXEC (@drop);
DROP TABLE IF EXISTS ref.instrument_sync_runs;
DROP TABLE IF EXISTS ref.instruments;
DELETE FROM ref.invalid_records WHERE source = N'instrument_sync';
