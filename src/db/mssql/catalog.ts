// What SQL Server's catalog says about a table's columns, narrowed once, and the port's view of it.
import { z } from 'zod';
import type { TableColumn } from '../types';

const nullableInt = z.number().int().nullable();

export const catalogColumnSchema = z.object({
  column_name: z.string(),
  data_type: z.string().transform((t) => t.toLowerCase()),
  /** Characters for character types, -1 for max. */
  max_length: nullableInt,
  numeric_precision: nullableInt,
  numeric_scale: nullableInt,
  datetime_precision: nullableInt,
  is_nullable: z.enum(['YES', 'NO']),
});
export type CatalogColumn = z.infer<typeof catalogColumnSchema>;

export function catalogColumnsFrom(rows: unknown): CatalogColumn[] {
  return z.array(catalogColumnSchema).parse(rows);
}

const CHARACTER_TYPES = new Set(['nvarchar', 'varchar', 'nchar', 'char', 'varbinary', 'binary']);
const NUMERIC_TYPES = new Set(['decimal', 'numeric']);

/** The type as one would write it in DDL: `nvarchar(50)`, `nvarchar(max)`, `decimal(18,4)`, `int`. */
export function dataTypeOf(c: CatalogColumn): string {
  if (CHARACTER_TYPES.has(c.data_type)) {
    const n = c.max_length;
    return n === null ? c.data_type : `${c.data_type}(${n === -1 ? 'max' : n})`;
  }
  if (NUMERIC_TYPES.has(c.data_type)) return `${c.data_type}(${c.numeric_precision ?? 18},${c.numeric_scale ?? 0})`;
  return c.data_type;
}

export function tableColumnOf(c: CatalogColumn): TableColumn {
  return { name: c.column_name, dataType: dataTypeOf(c), nullable: c.is_nullable === 'YES' };
}
