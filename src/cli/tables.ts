// `refdata tables [NAME] [--json]`: the loaded tables, or one of them in detail (NAME or schema.NAME).
import { Command } from 'commander';
import { baseServices, openDb } from '../runtime';
import type { TableDetail, TableSummary } from '../db/catalog';
import type { Database } from '../db/types';

/** `schema.name` exactly; a bare name is looked up in ref first, then data. */
export async function findTable(db: Database, arg: string): Promise<TableDetail | null> {
  const dot = arg.indexOf('.');
  if (dot > 0) return db.catalog.getTable({ schema: arg.slice(0, dot), name: arg.slice(dot + 1) });
  return (await db.catalog.getTable({ schema: 'ref', name: arg })) ?? (await db.catalog.getTable({ schema: 'data', name: arg }));
}

const when = (iso: string | null | undefined) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');

export function tableLines(tables: TableSummary[]): string[] {
  if (tables.length === 0) return ['no loaded tables yet: drop a CSV into the drop folder'];
  const header = `${'table'.padEnd(40)} ${'kind'.padEnd(9)} ${'rows'.padStart(12)} ${'cols'.padStart(5)}  ${'last load'.padEnd(30)} config`;
  return [
    header,
    ...tables.map((t) => {
      const last = t.lastLoad ? `${t.lastLoad.status} ${when(t.lastLoad.finishedAt ?? t.lastLoad.startedAt)}` : '-';
      const config = t.config ? (t.config.isActive ? 'active' : 'inactive') : t.referenceData ? 'MISSING' : '-';
      return `${`${t.schema}.${t.name}`.padEnd(40)} ${(t.referenceData ? 'reference' : 'data').padEnd(9)} ${String(t.rowCount).padStart(12)} ${String(t.columns.length).padStart(5)}  ${last.padEnd(30)} ${config}`;
    }),
  ];
}

export function detailLines(t: TableDetail): string[] {
  const lines = [
    `table      ${t.schema}.${t.name} (${t.referenceData ? 'reference data' : 'non-reference data'})`,
    `rows       ${t.rowCount}`,
    `config     ${t.config ? `${t.config.isActive ? 'active' : 'INACTIVE'}; ${t.config.loadType ?? '?'} from ${t.config.sourceFile ?? '?'}; updated ${when(t.config.updatedAt)}` : t.referenceData ? 'MISSING (refdata config validate --repair adds it)' : '-'}`,
    'columns',
    ...t.columns.map((c) => `  ${c.name.padEnd(32)} ${c.dataType}${c.nullable ? '' : ' not null'}`),
    'loads (newest first)',
    ...(t.loads.length ? t.loads.map((l) => `  ${l.loadId}  ${l.status.padEnd(8)} ${l.mode.padEnd(8)} ${String(l.rows).padStart(10)} rows  ${when(l.startedAt)}  ${l.filePath}`) : ['  none recorded']),
    'backups in bkp (newest first)',
    ...(t.backups.length ? t.backups.map((b) => `  ${b}`) : ['  none']),
  ];
  return lines;
}

export function tablesCommand(): Command {
  return new Command('tables')
    .description('loaded tables with row counts, columns, last load and config row; one table in detail with NAME')
    .argument('[name]', 'a table: NAME (ref first, then data) or SCHEMA.NAME')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, opts: { json?: boolean }) => {
      const { config, log } = baseServices();
      const db = await openDb(config, log);
      try {
        if (name) {
          const table = await findTable(db, name);
          if (!table) {
            process.stderr.write(`refdata tables: no loaded table ${name}; \`refdata tables\` lists them\n`);
            process.exitCode = 1;
            return;
          }
          process.stdout.write(opts.json ? `${JSON.stringify(table, null, 2)}\n` : `${detailLines(table).join('\n')}\n`);
        } else {
          const tables = await db.catalog.listTables();
          process.stdout.write(opts.json ? `${JSON.stringify(tables, null, 2)}\n` : `${tableLines(tables).join('\n')}\n`);
        }
      } finally {
        await db.close();
      }
    });
}
