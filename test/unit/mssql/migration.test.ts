// The SQL Server migration mirrors the PostgreSQL one: same schemas, tables, columns, keys and indexes, in T-SQL types.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMigrations } from '../../../src/db/migration-files';
import { TRACKING_COLUMNS } from '../../../src/db/mssql/sql';

const root = path.resolve(__dirname, '../../../sql');
const read = (dialect: string, file: string) => fs.readFileSync(path.join(root, dialect, file), 'utf8');
const pg = read('postgres', '001_foundation.sql');
const ms = read('mssql', '001_foundation.sql');

interface Column {
  name: string;
  type: string;
  notNull: boolean;
  identity: boolean;
  primaryKey: boolean;
  unique: boolean;
  default: string | null;
}
interface Table {
  columns: Column[];
  uniques: string[][];
}

const stripComments = (sql: string) => sql.replace(/--[^\n]*/g, '');

/** Splits at commas outside parentheses. */
function splitTopLevel(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of body) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

function parseTables(sql: string): Map<string, Table> {
  const tables = new Map<string, Table>();
  for (const m of stripComments(sql).matchAll(/CREATE TABLE\s+([\w.]+)\s*\(([\s\S]*?)\n\);/g)) {
    const table: Table = { columns: [], uniques: [] };
    for (const part of splitTopLevel(m[2]!)) {
      const unique = /^CONSTRAINT\s+\w+\s+UNIQUE\s*\(([^)]*)\)/i.exec(part);
      if (unique) {
        table.uniques.push(unique[1]!.split(',').map((c) => c.trim()));
        continue;
      }
      const [name, ...rest] = part.split(/\s+/);
      const def = rest.join(' ');
      const column: Column = {
        name: name!,
        type: rest[0]!.toLowerCase(),
        notNull: /NOT NULL|PRIMARY KEY/i.test(def),
        identity: /IDENTITY/i.test(def),
        primaryKey: /PRIMARY KEY/i.test(def),
        unique: /\bUNIQUE\b/i.test(def),
        default: /DEFAULT\s+(\S+)/i.exec(def)?.[1] ?? null,
      };
      if (column.unique) table.uniques.push([column.name]);
      table.columns.push(column);
    }
    tables.set(m[1]!, table);
  }
  return tables;
}

function parseIndexes(sql: string): string[] {
  return [...stripComments(sql).matchAll(/CREATE INDEX\s+(\w+)\s+ON\s+([\w.]+)\s*\(([^)]*)\)/g)].map(
    (m) => `${m[1]} ON ${m[2]} (${m[3]!.split(',').map((c) => c.trim()).join(', ')})`,
  );
}

/** The T-SQL type each PostgreSQL type becomes. */
function expectedType(pgType: string): string {
  if (pgType === 'integer') return 'int';
  if (pgType === 'text') return 'nvarchar(max)';
  if (pgType === 'boolean') return 'bit';
  if (pgType === 'timestamptz') return 'datetime2';
  const varchar = /^varchar\((\d+)\)$/.exec(pgType);
  if (varchar) return `nvarchar(${varchar[1]})`;
  return pgType;
}

function expectedDefault(pgDefault: string | null): string | null {
  return pgDefault === null ? null : ({ 'now()': 'SYSUTCDATETIME()', true: '1', false: '0' } as Record<string, string>)[pgDefault] ?? pgDefault;
}

const pgTables = parseTables(pg);
const msTables = parseTables(ms);

describe('sql/mssql/001_foundation.sql', () => {
  it('creates every schema of the PostgreSQL migration through EXEC, guarded by SCHEMA_ID', () => {
    const schemas = [...pg.matchAll(/CREATE SCHEMA IF NOT EXISTS (\w+)/g)].map((m) => m[1]!);
    expect(schemas).toEqual(['ref', 'bkp', 'dist', 'data']);
    for (const s of schemas) expect(ms).toContain(`IF SCHEMA_ID(N'${s}') IS NULL EXEC (N'CREATE SCHEMA [${s}]');`);
    // CREATE SCHEMA must be alone in its batch: outside EXEC it would fail in a one-batch file.
    expect(stripComments(ms).replace(/EXEC \(N'CREATE SCHEMA \[\w+\]'\)/g, '')).not.toMatch(/CREATE SCHEMA/i);
  });

  it('has no GO separators (the runner sends the file as one batch)', () => {
    expect(ms).not.toMatch(/^\s*GO\s*$/im);
  });

  it('creates the same tables with the same columns in the same order', () => {
    expect([...msTables.keys()]).toEqual([...pgTables.keys()]);
    expect(msTables.size).toBe(4);
    for (const [name, table] of pgTables) {
      expect(msTables.get(name)!.columns.map((c) => c.name), name).toEqual(table.columns.map((c) => c.name));
    }
  });

  it('maps every column to its T-SQL type with the same nullability, identity, key and default', () => {
    for (const [tableName, table] of pgTables) {
      const msColumns = new Map(msTables.get(tableName)!.columns.map((c) => [c.name, c]));
      for (const c of table.columns) {
        const m = msColumns.get(c.name)!;
        const where = `${tableName}.${c.name}`;
        expect(m.type, where).toBe(expectedType(c.type));
        expect(m.notNull, where).toBe(c.notNull);
        expect(m.identity, where).toBe(c.identity);
        expect(m.primaryKey, where).toBe(c.primaryKey);
        expect(m.default, where).toBe(expectedDefault(c.default));
        if (m.identity) expect(ms).toMatch(new RegExp(`\\n\\s+${c.name}\\s+\\w+ IDENTITY\\(1,1\\)`));
      }
    }
  });

  it('declares the same unique constraints and indexes', () => {
    for (const [name, table] of pgTables) expect(msTables.get(name)!.uniques, name).toEqual(table.uniques);
    expect(ms).toContain('CONSTRAINT uq_reference_data_cfg_table UNIQUE (schema_name, table_name)');
    expect(parseIndexes(ms)).toEqual(parseIndexes(pg));
    expect(parseIndexes(ms)).toHaveLength(5);
  });

  it('uses only T-SQL types', () => {
    for (const table of msTables.values()) {
      for (const c of table.columns) expect(c.type).toMatch(/^(int|bigint|bit|datetime2|nvarchar\((\d+|max)\))$/);
    }
    const code = stripComments(ms);
    for (const pgOnly of [/\btimestamptz\b/, /\bboolean\b/, /\bGENERATED\b/, /\bnow\(\)/, /(?<!n)varchar\(/, /\s(text)(\s|,)/]) {
      expect(code).not.toMatch(pgOnly);
    }
  });

  it('the ledger columns the dialect reads exist in the tracking table', () => {
    // 001's columns and those 010 adds (005's error_category belongs to the failure store, not the ledger rows).
    const added = [...read('mssql', '010_file_history.sql').matchAll(/ALTER TABLE ref\.file_monitor_tracking ADD (\w+) /g)].map((m) => m[1]!);
    expect(added).toEqual(['run_id', 'archived_path', 'rows_quarantined']);
    const columns = [...msTables.get('ref.file_monitor_tracking')!.columns.map((c) => c.name), ...added];
    expect([...TRACKING_COLUMNS].sort()).toEqual([...columns].sort());
  });

  it('the down migration drops the same tables as the PostgreSQL one', () => {
    const drops = (sql: string) => [...sql.matchAll(/DROP TABLE IF EXISTS ([\w.]+);/g)].map((m) => m[1]);
    expect(drops(read('mssql', '001_foundation.down.sql'))).toEqual(drops(read('postgres', '001_foundation.down.sql')));
  });

  it('is found by the migration reader with its rollback, in the same numbering as PostgreSQL', () => {
    const msMigrations = readMigrations(path.join(root, 'mssql'));
    const pgMigrations = readMigrations(path.join(root, 'postgres'));
    expect(msMigrations.map((m) => [m.version, m.name])).toEqual(pgMigrations.map((m) => [m.version, m.name]));
    expect(msMigrations[0]!.downSql).toContain('DROP TABLE IF EXISTS ref.loads');
  });
});
