// T-SQL of the table catalog, as pure functions: loaded tables' columns, the newest load per table, config rows.
import { z } from 'zod';
import { LOADED_SCHEMAS, type CatalogColumnRow, type ReferenceConfigRow } from '../catalog';
import type { LoadMode, TableRef } from '../types';
import { catalogColumnSchema, tableColumnOf } from './catalog';
import { intParam, textParam, type Statement } from './statement';
import { LOAD_COLUMNS } from './sql';

/** Columns of base tables in ref and data (or of one table), in table and column order. */
export function catalogColumnsSql(table?: TableRef): Statement {
  const params: Statement['params'] = {};
  LOADED_SCHEMAS.forEach((s, i) => (params[`schema_${i}`] = textParam(s)));
  let only = '';
  if (table) {
    only = '\n  AND c.TABLE_SCHEMA = @schema_name AND c.TABLE_NAME = @table_name';
    params.schema_name = textParam(table.schema);
    params.table_name = textParam(table.name);
  }
  return {
    text:
      'SELECT c.TABLE_SCHEMA AS table_schema, c.TABLE_NAME AS table_name, c.COLUMN_NAME AS column_name, c.DATA_TYPE AS data_type,\n' +
      '       c.CHARACTER_MAXIMUM_LENGTH AS max_length, c.NUMERIC_PRECISION AS numeric_precision, c.NUMERIC_SCALE AS numeric_scale,\n' +
      '       c.DATETIME_PRECISION AS datetime_precision, c.IS_NULLABLE AS is_nullable\n' +
      'FROM INFORMATION_SCHEMA.COLUMNS c\n' +
      'JOIN INFORMATION_SCHEMA.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME\n' +
      `WHERE t.TABLE_TYPE = 'BASE TABLE' AND c.TABLE_SCHEMA IN (${LOADED_SCHEMAS.map((_, i) => `@schema_${i}`).join(', ')})${only}\n` +
      'ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION',
    params,
  };
}

const catalogRowSchema = catalogColumnSchema.extend({ table_schema: z.string(), table_name: z.string() });

export function catalogColumnRowsFrom(rows: unknown): CatalogColumnRow[] {
  return z.array(catalogRowSchema).parse(rows).map((r) => ({ schema: r.table_schema, table: r.table_name, ...tableColumnOf(r) }));
}

/** The newest load of every table (ROW_NUMBER, as T-SQL has no DISTINCT ON). */
export const newestLoadsSql =
  `SELECT ${LOAD_COLUMNS} FROM (\n` +
  `  SELECT ${LOAD_COLUMNS}, ROW_NUMBER() OVER (PARTITION BY target_schema, target_table ORDER BY started_at DESC) AS rn FROM ref.loads\n` +
  ') l WHERE rn = 1';

export function tableLoadsSql(table: TableRef, limit: number): Statement {
  return {
    text: `SELECT TOP (@limit) ${LOAD_COLUMNS} FROM ref.loads WHERE target_schema = @schema_name AND target_table = @table_name ORDER BY started_at DESC`,
    params: { limit: intParam(limit), schema_name: textParam(table.schema), table_name: textParam(table.name) },
  };
}

const CONFIG_COLUMNS = 'id, schema_name, table_name, source_file, load_type, key_column, is_active, created_at, updated_at';

export function referenceConfigsSql(table?: TableRef): Statement {
  if (!table) return { text: `SELECT ${CONFIG_COLUMNS} FROM ref.reference_data_cfg ORDER BY schema_name, table_name`, params: {} };
  return {
    text: `SELECT ${CONFIG_COLUMNS} FROM ref.reference_data_cfg WHERE schema_name = @schema_name AND table_name = @table_name`,
    params: { schema_name: textParam(table.schema), table_name: textParam(table.name) },
  };
}

const configRowSchema = z.object({
  id: z.number().int(),
  schema_name: z.string(),
  table_name: z.string(),
  source_file: z.string().nullable(),
  load_type: z.enum(['fullload', 'append']).nullable(),
  key_column: z.string().nullable(),
  is_active: z.boolean(),
  created_at: z.date(),
  updated_at: z.date(),
});

export function referenceConfigsFrom(rows: unknown): ReferenceConfigRow[] {
  return z.array(configRowSchema).parse(rows).map((r) => ({
    id: r.id,
    table: { schema: r.schema_name, name: r.table_name },
    sourceFile: r.source_file,
    loadType: r.load_type as LoadMode | null,
    keyColumn: r.key_column,
    isActive: r.is_active,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  }));
}

export function deactivateReferenceConfigSql(table: TableRef): Statement {
  return {
    text: 'UPDATE ref.reference_data_cfg SET is_active = 0, updated_at = SYSUTCDATETIME() WHERE schema_name = @schema_name AND table_name = @table_name',
    params: { schema_name: textParam(table.schema), table_name: textParam(table.name) },
  };
}

export const backupTablesSql =
  "SELECT t.name AS table_name FROM sys.tables t JOIN sys.schemas s ON s.schema_id = t.schema_id WHERE s.name = N'bkp'";

/** SQL Server's "Invalid object name": the table went away between the catalog read and the count. */
export const INVALID_OBJECT_NAME = 208;
