// Checks ref.reference_data_cfg against the tables that really exist, and repairs it: used by `refdata config validate`.
import type { ReferenceConfigRow, TableSummary } from './db/catalog';
import type { Database, TableRef } from './db/types';

export interface ConfigProblems {
  /** Active config rows whose table no longer exists. Repair: deactivate the row. */
  orphans: ReferenceConfigRow[];
  /** Reference tables (schema ref, loaded from reference_data_table folders) without a config row. Repair: insert one. */
  missing: TableSummary[];
  /** Inactive config rows whose loaded table exists again. Repair: reactivate the row. */
  inactive: ReferenceConfigRow[];
}

const same = (a: TableRef, b: TableRef) => a.schema === b.schema && a.name === b.name;

/** Pure: `exists` answers for config rows that name a table the catalog does not list (e.g. one made by hand). */
export function findConfigProblems(tables: TableSummary[], configs: ReferenceConfigRow[], exists: Set<string>): ConfigProblems {
  const isThere = (t: TableRef) => tables.some((x) => same(x, t)) || exists.has(`${t.schema}.${t.name}`);
  return {
    orphans: configs.filter((c) => c.isActive && !isThere(c.table)),
    missing: tables.filter((t) => t.referenceData && !configs.some((c) => same(c.table, t))),
    inactive: configs.filter((c) => !c.isActive && tables.some((t) => same(t, c.table))),
  };
}

export const problemCount = (p: ConfigProblems) => p.orphans.length + p.missing.length + p.inactive.length;

export async function validateReferenceConfig(db: Database): Promise<ConfigProblems> {
  const [tables, configs] = await Promise.all([db.catalog.listTables(), db.catalog.listReferenceConfigs()]);
  const exists = new Set<string>();
  for (const c of configs) {
    if (tables.some((t) => same(t, c.table))) continue;
    if ((await db.describeTable(c.table)) !== null) exists.add(`${c.table.schema}.${c.table.name}`);
  }
  return findConfigProblems(tables, configs, exists);
}

/** Applies the repairs; the source file and load type of an inserted row come from the table's last load. */
export async function repairReferenceConfig(db: Database, problems: ConfigProblems): Promise<string[]> {
  const done: string[] = [];
  for (const o of problems.orphans) {
    await db.catalog.deactivateReferenceConfig(o.table);
    done.push(`deactivated the config row of ${o.table.schema}.${o.table.name} (the table no longer exists)`);
  }
  for (const t of [...problems.missing, ...problems.inactive.map((c) => ({ schema: c.table.schema, name: c.table.name, lastLoad: null, config: c }))]) {
    const source = t.lastLoad?.filePath ?? t.config?.sourceFile ?? '(unknown: repaired by refdata config validate)';
    const loadType = t.lastLoad?.mode ?? t.config?.loadType ?? 'fullload';
    await db.upsertReferenceConfig({ table: { schema: t.schema, name: t.name }, sourceFile: source, loadType });
    done.push(`${t.config ? 'reactivated' : 'inserted'} the config row of ${t.schema}.${t.name}`);
  }
  return done;
}

export function describeProblems(p: ConfigProblems): string[] {
  return [
    ...p.orphans.map((c) => `orphan:   ${c.table.schema}.${c.table.name} has an active config row but the table does not exist`),
    ...p.missing.map((t) => `missing:  ${t.schema}.${t.name} is reference data but has no config row`),
    ...p.inactive.map((c) => `inactive: ${c.table.schema}.${c.table.name} exists but its config row is inactive`),
  ];
}

export type ConfigProblemKind = 'orphan' | 'missing' | 'inactive';

/** One problem as the API, the schedule and the CLI's JSON show it. */
export interface ConfigProblem {
  kind: ConfigProblemKind;
  table: TableRef;
  message: string;
}

export function listProblems(p: ConfigProblems): ConfigProblem[] {
  const lines = describeProblems(p).map((l) => l.replace(/^\w+:\s+/, ''));
  const tables: Array<[ConfigProblemKind, TableRef]> = [
    ...p.orphans.map((c): [ConfigProblemKind, TableRef] => ['orphan', c.table]),
    ...p.missing.map((t): [ConfigProblemKind, TableRef] => ['missing', { schema: t.schema, name: t.name }]),
    ...p.inactive.map((c): [ConfigProblemKind, TableRef] => ['inactive', c.table]),
  ];
  return tables.map(([kind, table], i) => ({ kind, table: { schema: table.schema, name: table.name }, message: lines[i]! }));
}

export interface ConfigCheck {
  found: ConfigProblem[];
  repaired: string[];
  remaining: ConfigProblem[];
}

/** Validates, repairs when asked and there is something to repair, and validates again: the CLI, the API and the schedule. */
export async function checkReferenceConfig(db: Database, repair: boolean): Promise<ConfigCheck> {
  const found = await validateReferenceConfig(db);
  const repaired = repair && problemCount(found) > 0 ? await repairReferenceConfig(db, found) : [];
  const remaining = repaired.length > 0 ? await validateReferenceConfig(db) : found;
  return { found: listProblems(found), repaired, remaining: listProblems(remaining) };
}
