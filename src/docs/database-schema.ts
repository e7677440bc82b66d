// docs/database-schema.md: PostgreSQL from a really migrated catalog (a throwaway embedded server), SQL Server column
// types and indexes read from sql/mssql/. Tables that loads create (`ref.<table>`, `data.<table>`, `bkp.*`) are not here.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPostgresDatabase } from '../db/postgres';
import { createNodePgExecutor } from '../db/postgres/node-pg';
import { startEmbeddedPostgres } from '../db/postgres/embedded-server';
import { migrationsRoot, readMigrations } from '../db/migration-files';
import { generatedNotice } from './notice';

export interface CatalogColumn {
  name: string;
  type: string;
  nullable: boolean;
  default: string | null;
}

export interface CatalogTable {
  schema: string;
  name: string;
  comment: string | null;
  columns: CatalogColumn[];
  /** `CREATE … INDEX …` as PostgreSQL prints it. */
  indexes: string[];
  /** `name: definition` of primary key, unique and check constraints. */
  constraints: string[];
}

const OWN_SCHEMAS = ['ref', 'dist', 'bkp', 'data'];

/** Every table the migrations create, as PostgreSQL's catalog describes it after `migrate()`. */
export async function postgresCatalog(): Promise<CatalogTable[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'refdata-docs-pg-'));
  fs.chmodSync(dir, 0o755); // as root the server runs as postgres, which must reach its data directory
  const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), ephemeral: true }).catch((err: unknown) => {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  const exec = createNodePgExecutor(server.url);
  const db = createPostgresDatabase(exec, 'embedded');
  try {
    await db.migrate();
    const tables = await exec.query<{ schema: string; name: string; comment: string | null }>(
      `SELECT n.nspname AS schema, c.relname AS name, obj_description(c.oid, 'pg_class') AS comment
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1) ORDER BY n.nspname, c.relname`,
      [`{${OWN_SCHEMAS.join(',')}}`],
    );
    const out: CatalogTable[] = [];
    for (const t of tables) {
      const columns = await exec.query<{ name: string; type: string; nullable: boolean; default: string | null }>(
        `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS default
           FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE a.attrelid = ($1 || '.' || $2)::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
        [t.schema, t.name],
      );
      const indexes = await exec.query<{ def: string }>('SELECT indexdef AS def FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY indexname', [t.schema, t.name]);
      const constraints = await exec.query<{ def: string }>(
        `SELECT conname || ': ' || pg_get_constraintdef(oid) AS def FROM pg_constraint
          WHERE conrelid = ($1 || '.' || $2)::regclass AND contype IN ('p', 'u', 'c', 'f') ORDER BY conname`,
        [t.schema, t.name],
      );
      out.push({
        schema: t.schema, name: t.name, comment: t.comment, columns: columns.map((c) => ({ ...c, nullable: Boolean(c.nullable) })),
        indexes: indexes.map((i) => i.def), constraints: constraints.map((c) => c.def),
      });
    }
    return out;
  } finally {
    await db.close();
    await server.stop('immediate');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface MssqlSchema {
  /** `schema.table` → column → SQL Server type (with NULL / NOT NULL). */
  columns: Map<string, Map<string, string>>;
  /** `schema.table` → index name → `(columns) [WHERE …]`. */
  indexes: Map<string, Map<string, string>>;
}

const MSSQL_TYPE = /^(nvarchar|varchar|nchar|char|int|bigint|smallint|tinyint|bit|datetime2|datetimeoffset|date|time|decimal|numeric|float|real|varbinary|uniqueidentifier)\b(\([^)]*\))?/i;

/** Columns and indexes the SQL Server migrations create, read from their text (one column per line, as they are written). */
export function mssqlSchemaFrom(scripts: string[]): MssqlSchema {
  const columns = new Map<string, Map<string, string>>();
  const indexes = new Map<string, Map<string, string>>();
  const tableOf = (name: string) => (columns.get(name) ?? columns.set(name, new Map()).get(name))!;
  for (const script of scripts) {
    let table: string | null = null;
    for (const raw of script.replace(/--[^\n]*/g, '').split('\n')) {
      const line = raw.trim();
      const created = /^CREATE TABLE ([\w.]+)\s*\(/i.exec(line);
      const altered = /^(?:IF .*\s)?ALTER TABLE ([\w.]+) ADD\b(.*)$/i.exec(line);
      const index = /CREATE (?:UNIQUE )?INDEX (\w+) ON ([\w.]+) (\([^)]*\))( WHERE [^';]+)?/i.exec(line);
      if (index) (indexes.get(index[2]!) ?? indexes.set(index[2]!, new Map()).get(index[2]!))!.set(index[1]!, `${index[3]}${index[4] ?? ''}`);
      if (created) {
        table = created[1]!;
        continue;
      }
      if (altered) {
        table = altered[2]!.trim().startsWith('CONSTRAINT') ? null : altered[1]!;
        if (!table) continue;
        if (altered[2]!.trim()) addColumn(tableOf(table), altered[2]!.trim());
        continue;
      }
      if (line.startsWith(')') || line === '' || /^(CREATE|ALTER|DROP|IF|EXEC|UPDATE|DELETE|INSERT|DECLARE|SELECT|GO)\b/i.test(line)) {
        if (line.startsWith(')') || /^(CREATE|ALTER|DROP|IF|EXEC|UPDATE|DELETE|INSERT|DECLARE|SELECT)\b/i.test(line)) table = null;
        continue;
      }
      if (table) addColumn(tableOf(table), line);
    }
  }
  return { columns, indexes };
}

function addColumn(table: Map<string, string>, text: string): void {
  const m = /^\[?(\w+)\]?\s+(.*)$/.exec(text);
  if (!m || /^CONSTRAINT$/i.test(m[1]!)) return;
  const type = MSSQL_TYPE.exec(m[2]!);
  if (!type) return;
  table.set(m[1]!, `${type[0]}${/\bNOT NULL\b/i.test(m[2]!) || /PRIMARY KEY/i.test(m[2]!) ? ' NOT NULL' : ''}`);
}

function readMssqlScripts(): string[] {
  return readMigrations(path.join(migrationsRoot, 'mssql')).map((m) => m.sql);
}

const cell = (s: string) => s.replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();

export function renderDatabaseSchema(pg: CatalogTable[], ms: MssqlSchema, migrations: Array<{ version: number; name: string }>): string {
  const out = [
    '# Database schema',
    '',
    generatedNotice('refdata docs schema', 'a PostgreSQL catalog after every migration (a throwaway embedded server) and the SQL Server migrations in `sql/mssql/`'),
    '',
    'Both dialects have the same schemas, tables and columns (the SQL Server migrations mirror the PostgreSQL ones; unit',
    'tests compare them). Schemas: `ref` (ledger, configuration, instruments, reference tables that loads create),',
    '`data` (other loaded tables), `bkp` (`<table>__<timestamp>` copies kept by fullloads), `dist` (subscriptions,',
    'deliveries, distribution runs, outbox). Tables created by loads are described by `GET /api/v1/tables` and',
    '`refdata tables`, not here. Applying and rolling back: [deployment](deployment.md#migrations-and-rollback).',
    '',
    'Migrations:',
    '',
    ...migrations.map((m) => `- \`${String(m.version).padStart(3, '0')}_${m.name}\``),
    '',
    '## Tables',
    '',
    ...pg.map((t) => `- [\`${t.schema}.${t.name}\`](#${`${t.schema}${t.name}`.replace(/[^a-z0-9_-]/g, '')})`),
    '',
  ];
  for (const t of pg) {
    const key = `${t.schema}.${t.name}`;
    const msCols = ms.columns.get(key) ?? new Map<string, string>();
    out.push(`### \`${key}\``, '');
    if (t.comment) out.push(t.comment, '');
    out.push('| column | PostgreSQL | SQL Server | null | default (PostgreSQL) |', '| --- | --- | --- | --- | --- |');
    for (const c of t.columns) {
      // ref.schema_migrations is made by each dialect's migration runner, not by a migration file.
      const msType = msCols.get(c.name)?.replace(/ NOT NULL$/, '') ?? (key === 'ref.schema_migrations' ? '(runner)' : '—');
      out.push(`| \`${c.name}\` | ${cell(c.type)} | ${cell(msType)} | ${c.nullable ? 'yes' : 'no'} | ${c.default ? `\`${cell(c.default)}\`` : ''} |`);
    }
    out.push('');
    if (t.constraints.length) out.push('Constraints:', '', ...t.constraints.map((c) => `- \`${cell(c)}\``), '');
    if (t.indexes.length) {
      out.push('Indexes (PostgreSQL):', '', ...t.indexes.map((i) => `- \`${cell(i)}\``), '');
    }
    const msIdx = [...(ms.indexes.get(key) ?? new Map<string, string>()).entries()];
    if (msIdx.length) out.push('Indexes (SQL Server, besides primary keys and unique constraints):', '', ...msIdx.map(([n, d]) => `- \`${n}\` ${cell(d)}`), '');
  }
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

export async function databaseSchemaMarkdown(): Promise<string> {
  const migrations = readMigrations(path.join(migrationsRoot, 'postgres')).map((m) => ({ version: m.version, name: m.name }));
  return renderDatabaseSchema(await postgresCatalog(), mssqlSchemaFrom(readMssqlScripts()), migrations);
}

/** For tests and the CLI: whether a file on disk equals what the generator writes. */
export function readIfExists(file: string): string | null {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
}
