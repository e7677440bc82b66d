// Which existing tables a file that would make a new table most resembles, by its columns: the operator may have
// meant one of them (a renamed export, a date in an unusual place in the name). Pure.
import { matchSchema } from './schema-match';

export interface CandidateTable {
  schema: string;
  name: string;
  columns: string[];
}

export interface TableSuggestion {
  /** `schema.name` */
  table: string;
  /** The same measure as the plan's match against a table of the file's own name: paired / max(file, table) × 100. */
  percent: number;
  /** File columns paired with one of the table's. */
  matched: number;
  /** Table columns absent from the file. */
  missing: string[];
  /** File columns absent from the table. */
  extra: string[];
}

/**
 * The tables whose columns match the file's best, best first: by match percentage, then by more paired columns,
 * then tables in the schema the file would load into (reference data or not), then by name. Tables sharing no
 * column are left out.
 */
export function suggestTables(
  fileColumns: string[], tables: CandidateTable[], opts: { schema?: string; limit?: number } = {},
): TableSuggestion[] {
  const ranked = tables
    .map((t) => ({ t, m: matchSchema(fileColumns, t.columns) }))
    .filter(({ m }) => m.mapping.length > 0)
    .map(({ t, m }) => ({
      schema: t.schema,
      suggestion: { table: `${t.schema}.${t.name}`, percent: m.percent, matched: m.mapping.length, missing: m.missing, extra: m.extra },
    }));
  const sameSchema = (s: string) => (opts.schema !== undefined && s === opts.schema ? 0 : 1);
  ranked.sort((a, b) =>
    b.suggestion.percent - a.suggestion.percent
    || b.suggestion.matched - a.suggestion.matched
    || sameSchema(a.schema) - sameSchema(b.schema)
    || a.suggestion.table.localeCompare(b.suggestion.table));
  return ranked.slice(0, opts.limit ?? 3).map((r) => r.suggestion);
}
