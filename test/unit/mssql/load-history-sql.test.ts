// Unit tests of the statements for finished loads: the revert swap, its guard, lookups, listing, backup retention.
import { describe, expect, it } from 'vitest';
import { backupTableOf } from '../../../src/db/load-names';
import {
  BACKUP_SCHEMA, DEFAULT_LOADS_LIMIT, MAX_LOADS_LIMIT, backupTablesSql, expiredBackups, findLoadedByHashSql, laterFullloadSql, listLoadsSql,
  revertLoadRecordSql, revertSwapSql,
} from '../../../src/db/mssql/load-history-sql';
import { expectParamsConsistent, readBracketed } from './statement-check';

const target = { schema: 'data', name: 'prices' };
const backup = { schema: 'bkp', name: 'prices__20240506070809_l1' };
const parked = { schema: 'bkp', name: 'prices__20240607080910_rvl1' };

describe('revertSwapSql', () => {
  it('parks the live table in bkp, then moves the backup into the target schema under the target name, in that order', () => {
    const stmt = revertSwapSql(target, parked, backup);
    expect(stmt.text.split('\n')).toEqual([
      "EXEC sp_rename @objname = @target_path, @newname = @parked_name, @objtype = N'OBJECT';",
      'ALTER SCHEMA [bkp] TRANSFER [data].[prices__20240607080910_rvl1];',
      'ALTER SCHEMA [data] TRANSFER [bkp].[prices__20240506070809_l1];',
      "EXEC sp_rename @objname = @restored_path, @newname = @target_name, @objtype = N'OBJECT';",
    ]);
    expect(stmt.params).toEqual({
      target_path: { type: 'nvarchar', value: '[data].[prices]' },
      parked_name: { type: 'nvarchar', value: parked.name },
      restored_path: { type: 'nvarchar', value: '[data].[prices__20240506070809_l1]' },
      target_name: { type: 'nvarchar', value: 'prices' },
    });
    expectParamsConsistent(stmt);
  });

  it('the parked name comes from backupTableOf with an rv load id: bkp.<table>__<stamp>_rv…', () => {
    const name = backupTableOf(target, 'rvL1', new Date('2024-06-07T08:09:10Z'));
    expect(name).toEqual({ schema: 'bkp', name: 'prices__20240607080910_rvl1' });
  });

  it('without a backup (the load created the table) it only parks the live table', () => {
    const stmt = revertSwapSql(target, parked, null);
    expect(stmt.text).not.toContain('@restored_path');
    expect(stmt.text.split('\n')).toHaveLength(2);
    expectParamsConsistent(stmt);
  });

  it('without a live table it only restores the backup', () => {
    const stmt = revertSwapSql(target, null, backup);
    expect(stmt.text).toMatch(/^ALTER SCHEMA \[data\] TRANSFER \[bkp\]\.\[prices__20240506070809_l1\];/);
    expectParamsConsistent(stmt);
  });

  it('quotes hostile schema and table names as identifiers and passes sp_rename its names as parameters', () => {
    const t = { schema: 'da]ta', name: "x]; DROP TABLE ref.loads; --" };
    const b = { schema: 'bkp', name: "x]; DROP TABLE ref.loads; --__20240506070809_l1" };
    const stmt = revertSwapSql(t, { schema: 'bkp', name: 'p]' }, b);
    const lines = stmt.text.split('\n');
    const transfer = lines[2]!.replace(/^ALTER SCHEMA /, '');
    const schema = readBracketed(transfer);
    expect(schema.name).toBe('da]ta');
    const from = readBracketed(schema.rest.replace(/^ TRANSFER /, ''));
    expect(from.name).toBe('bkp');
    expect(readBracketed(from.rest.slice(1))).toEqual({ name: b.name, rest: ';' });
    expect(lines[1]).toBe('ALTER SCHEMA [bkp] TRANSFER [da]]ta].[p]]];');
    expect(stmt.params.target_name!.value).toBe(t.name);
    expect(stmt.params.target_path!.value).toBe('[da]]ta].[x]]; DROP TABLE ref.loads; --]');
    expectParamsConsistent(stmt);
  });

  it('refuses nothing to swap, and tables that would stay in the target schema', () => {
    expect(() => revertSwapSql(target, null, null)).toThrow(/nothing to swap/);
    expect(() => revertSwapSql(target, { schema: 'data', name: 'p' }, backup)).toThrow(/another schema/);
    expect(() => revertSwapSql(target, parked, { schema: 'data', name: 'b' })).toThrow(/another schema/);
  });
});

describe('revert guard and record', () => {
  it('looks for a loaded fullload of the same table swapped in after this load', () => {
    const stmt = laterFullloadSql('L1');
    expect(stmt.text).toContain('JOIN ref.loads r ON r.load_id = @load_id');
    expect(stmt.text).toContain('l.target_schema = r.target_schema AND l.target_table = r.target_table');
    expect(stmt.text).toContain("l.mode = @mode AND l.status = N'loaded'");
    expect(stmt.text).toContain('l.load_id <> r.load_id AND l.finished_at > r.finished_at');
    expect(stmt.params).toEqual({ load_id: { type: 'nvarchar', value: 'L1' }, mode: { type: 'nvarchar', value: 'fullload' } });
    expectParamsConsistent(stmt);
  });

  it("marks only a loaded load reverted", () => {
    const stmt = revertLoadRecordSql('L1');
    expect(stmt.text).toBe("UPDATE ref.loads SET status = N'reverted', finished_at = SYSUTCDATETIME() WHERE load_id = @load_id AND status = N'loaded'");
    expectParamsConsistent(stmt);
  });
});

describe('findLoadedByHashSql', () => {
  it('looks among the loads in effect (the latest loaded fullload and the appends after it), all values as parameters', () => {
    const stmt = findLoadedByHashSql(target, 'abc123');
    expect(stmt.text).toContain("FROM ref.loads WHERE target_schema = @target_schema AND target_table = @target_table AND status = N'loaded'");
    expect(stmt.text).toContain("base AS (SELECT MAX(finished_at) AS at FROM loaded WHERE mode = N'fullload')");
    expect(stmt.text).toContain('WHERE b.at IS NULL OR l.finished_at >= b.at');
    expect(stmt.text).toMatch(/SELECT TOP \(1\) load_id, target_schema, .*finished_at FROM in_effect\nWHERE file_hash = @file_hash\nORDER BY finished_at, load_id$/);
    expect(stmt.params).toMatchObject({ target_schema: { value: 'data' }, target_table: { value: 'prices' }, file_hash: { value: 'abc123' } });
    expectParamsConsistent(stmt);
  });

  it('a fullload duplicates only the one fullload in effect', () => {
    const stmt = findLoadedByHashSql(target, 'abc123', 'fullload');
    expect(stmt.text).toContain("WHERE file_hash = @file_hash AND mode = N'fullload' AND (SELECT COUNT(*) FROM in_effect) = 1");
    expectParamsConsistent(stmt);
  });
});

describe('listLoadsSql', () => {
  it('lists newest first with the default limit and no filter', () => {
    const stmt = listLoadsSql({});
    expect(stmt.text).toMatch(/^SELECT TOP \(@limit\) load_id, .* FROM ref\.loads\nORDER BY started_at DESC, load_id DESC$/);
    expect(stmt.params).toEqual({ limit: { type: 'int', value: DEFAULT_LOADS_LIMIT } });
    expectParamsConsistent(stmt);
  });

  it('filters by table and status as parameters', () => {
    const stmt = listLoadsSql({ table: 'prices', status: 'reverted', limit: 5 });
    expect(stmt.text).toContain('WHERE target_table = @target_table AND status = @status');
    expect(stmt.params).toMatchObject({ limit: { value: 5 }, target_table: { value: 'prices' }, status: { value: 'reverted' } });
    expectParamsConsistent(stmt);
  });

  it.each([
    [0, 1],
    [-3, 1],
    [2.7, 2],
    [5000, MAX_LOADS_LIMIT],
    [Number.NaN, DEFAULT_LOADS_LIMIT],
  ])('clamps limit %d to %d', (limit, expected) => {
    expect(listLoadsSql({ limit }).params.limit!.value).toBe(expected);
  });
});

describe('backup retention', () => {
  it('lists the tables of the bkp schema from sys.tables, the schema as a parameter', () => {
    const stmt = backupTablesSql();
    expect(stmt.text).toBe('SELECT t.name AS table_name FROM sys.tables t WHERE t.schema_id = SCHEMA_ID(@schema_name)');
    expect(stmt.params).toEqual({ schema_name: { type: 'nvarchar', value: BACKUP_SCHEMA } });
    expectParamsConsistent(stmt);
  });

  const cutoff = new Date('2024-05-06T00:00:00Z');
  it.each([
    ['prices__20240505235959_l1', true],
    ['prices__20240101000000_abc123', true],
    ['prices__20240505120000_rvl1ab', true],
    ['prices__20240506000000_l1', false],
    ['prices__20240506000001_l1', false],
    ['prices__20991231235959_l1', false],
    ['prices', false],
    ['prices__2024050523595_l1', false],
    ['prices__20240505235959', false],
    ['prices__20240505235959_L1!', false],
  ])('%s expired before 2024-05-06: %s', (name, expired) => {
    expect(expiredBackups([name], cutoff)).toEqual(expired ? [name] : []);
  });

  it('returns the expired names sorted, from a backupTableOf name through to the cutoff', () => {
    const a = backupTableOf(target, 'L2', new Date('2024-05-01T10:00:00Z')).name;
    const b = backupTableOf({ schema: 'data', name: 'fx' }, 'L3', new Date('2024-04-01T10:00:00Z')).name;
    const c = backupTableOf(target, 'L4', new Date('2024-05-07T10:00:00Z')).name;
    expect(expiredBackups([a, c, b], cutoff)).toEqual([b, a]);
  });

  it('refuses an invalid cutoff', () => {
    expect(() => expiredBackups(['prices__20240505235959_l1'], new Date('nope'))).toThrow(/not a valid date/);
  });
});
