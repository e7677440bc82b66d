// `refdata plan FILE [--json]`: shows how a file would load (format, types, table, match) without loading anything.
import path from 'node:path';
import { Command } from 'commander';
import { ApplicationFailure } from '@temporalio/common';
import { loadConfig } from '../config';
import { classifyPath } from '../drop-folders';
import { planFile, sha256File, type LoadPlan } from '../../activities/plan';
import { countDataRows } from '../record-stream';
import { openDatabase } from '../db';
import type { Database, LoadMode } from '../db/types';
import { suggestTables, type TableSuggestion } from '../csv/table-suggestions';

export interface PlanJson {
  file: string;
  encoding: string;
  delimiter: string;
  quote: string;
  newline: string;
  hasHeader: boolean;
  preambleLines: number;
  headers: string[];
  columns: { name: string; type: string; precision?: number; scale?: number; maxLength?: number }[];
  table: string;
  schema: string;
  loadType: LoadMode;
  referenceData: boolean;
  rowCount: number;
  fileSize: number;
  sha256: string;
  match: { table: string; percent: number; missing: string[]; extra: string[] } | null;
  /** Each header (in file order) and the table column its values go into; `existing` when the table already has it. */
  mapping: { header: string; column: string; existing: boolean }[];
  /** When the file's name makes a new table: the existing tables its columns match best, best first (else empty). */
  suggestions: TableSuggestion[];
}

export function toPlanJson(filePath: string, plan: LoadPlan & { fileHash: string }, rowCount: number, suggestions: TableSuggestion[] = []): PlanJson {
  return {
    file: filePath,
    encoding: plan.encoding,
    delimiter: plan.delimiter,
    quote: plan.quote,
    newline: plan.newline,
    hasHeader: plan.hasHeader,
    preambleLines: plan.preambleLines,
    headers: plan.headers,
    columns: plan.columns.map((c) => ({ name: c.name, ...c.type, type: c.type.kind })).map(({ kind: _k, ...rest }) => rest),
    table: plan.table.name,
    schema: plan.table.schema,
    loadType: plan.loadType,
    referenceData: plan.referenceData,
    rowCount,
    fileSize: plan.fileSize,
    sha256: plan.fileHash,
    match: plan.match ? { table: `${plan.table.schema}.${plan.table.name}`, percent: plan.match.percent, missing: plan.match.missing, extra: plan.match.extra } : null,
    mapping: mappingOf(plan),
    suggestions,
  };
}

/** A new table (nothing of the file's name to match): the loaded tables whose columns resemble the file's. */
async function suggestionsFor(plan: LoadPlan, db: Database): Promise<TableSuggestion[]> {
  if (plan.match) return [];
  const tables = (await db.catalog.listTables())
    .filter((t) => !(t.schema === plan.table.schema && t.name === plan.table.name))
    .map((t) => ({ schema: t.schema, name: t.name, columns: t.columns.map((c) => c.name) }));
  return suggestTables(plan.columns.map((c) => c.name), tables, { schema: plan.table.schema });
}

/** Header → table column, from the plan's columns (already named as the match paired them). */
function mappingOf(plan: LoadPlan): PlanJson['mapping'] {
  const paired = new Set((plan.match?.mapping ?? []).map((m) => m.table));
  return plan.columns.map((c, i) => ({ header: plan.headers[i] ?? c.name, column: c.name, existing: paired.has(c.name) }));
}

/** Plans a file as the loader would; the folder decides load type and kind unless overridden. */
export async function planForCli(file: string, opts: { loadType?: LoadMode; referenceData?: boolean; db: Database | null }, dropRoot: string): Promise<PlanJson> {
  const abs = path.resolve(file);
  const c = classifyPath(dropRoot, abs);
  const loadType = opts.loadType ?? (c.kind === 'input' ? c.loadType : 'fullload');
  const referenceData = opts.referenceData ?? (c.kind === 'input' ? c.referenceData : false);
  const plan = await planFile({ filePath: abs, loadType, referenceData }, opts.db ? (t) => opts.db!.describeTable(t) : null);
  const fileHash = plan.fileHash ?? (await sha256File(abs));
  const suggestions = opts.db ? await suggestionsFor(plan, opts.db) : [];
  return toPlanJson(abs, { ...plan, fileHash }, await countDataRows(abs, plan), suggestions);
}

function describe(p: PlanJson): string {
  const names = { ',': 'comma', ';': 'semicolon', '|': 'pipe', '\t': 'tab' } as Record<string, string>;
  const lines = [
    `file       ${p.file} (${p.fileSize} bytes)`,
    `format     ${p.encoding}, ${names[p.delimiter] ?? JSON.stringify(p.delimiter)}-delimited, quote ${p.quote}, ${p.hasHeader ? 'header row' : 'no header'}${p.preambleLines ? `, ${p.preambleLines} preamble line(s)` : ''}`,
    `target     ${p.schema}.${p.table} (${p.loadType}, ${p.referenceData ? 'reference data' : 'non-reference data'})`,
    `rows       ${p.rowCount}`,
    'columns    file header → table column, type',
    ...p.columns.map((c, i) => {
      const m = p.mapping[i];
      const into = `${m ? `${m.header} → ` : ''}${c.name}`;
      const isNew = p.match && m && !m.existing ? ' (new column)' : '';
      return `  ${into.padEnd(40)} ${c.type}${c.precision ? `(${c.precision},${c.scale})` : ''}${c.maxLength ? ` max ${c.maxLength}` : ''}${isNew}`;
    }),
  ];
  if (p.match) lines.push(`match      ${p.match.percent}% of ${p.match.table}; missing: ${p.match.missing.join(', ') || 'none'}; extra: ${p.match.extra.join(', ') || 'none'}`);
  else if (p.suggestions.length) {
    lines.push(`new table  ${p.schema}.${p.table}; existing tables with similar columns (rename the file to load into one):`);
    for (const s of p.suggestions) {
      lines.push(`  ${s.table.padEnd(38)} ${String(s.percent).padStart(5)}%  missing: ${s.missing.join(', ') || 'none'}; extra: ${s.extra.join(', ') || 'none'}`);
    }
  }
  return lines.join('\n');
}

export function planCommand(): Command {
  return new Command('plan')
    .description('show how a file would be loaded, without loading anything')
    .argument('<file>', 'CSV file')
    .option('--json', 'print the plan as JSON')
    .option('--load-type <mode>', 'fullload or append (default: from the folder, else fullload)')
    .option('--reference', 'treat as reference data (default: from the folder)')
    .option('--no-db', 'do not compare with the existing table')
    .action(async (file: string, opts: { json?: boolean; loadType?: LoadMode; reference?: boolean; db: boolean }) => {
      const config = loadConfig();
      // The embedded server is joined when `npm start` runs it, else started for this command and stopped after.
      const db = opts.db ? await openDatabase(config) : null;
      try {
        const plan = await planForCli(file, { loadType: opts.loadType, referenceData: opts.reference, db }, config.dropoffDir);
        process.stdout.write(opts.json ? `${JSON.stringify(plan, null, 2)}\n` : `${describe(plan)}\n`);
      } catch (err) {
        const code = err instanceof ApplicationFailure ? ((err.details?.[0] as { code?: string } | undefined)?.code ?? err.type ?? 'INVALID_FILE') : 'ERROR';
        const message = (err as Error).message;
        if (opts.json) process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
        else process.stderr.write(`refdata plan: ${message}\n`);
        process.exitCode = 1;
      } finally {
        await db?.close();
      }
    });
}
