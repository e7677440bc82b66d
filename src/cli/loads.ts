// `refdata loads list|revert`: load history, and undoing a finished load.
import { Command } from 'commander';
import { baseServices, openDb } from '../runtime';
import { revertLoad, toLoadView } from '../loads';
import { announceLoadReverted } from '../notify/events';

export function loadsCommand(): Command {
  const cmd = new Command('loads').description('load history and undo');
  cmd
    .command('list')
    .description('recent loads, newest first')
    .option('--table <name>', 'only this table')
    .option('--status <status>', 'loading, loaded, aborted or reverted')
    .option('--json', 'print JSON')
    .action(async (opts: { table?: string; status?: 'loading' | 'loaded' | 'aborted' | 'reverted'; json?: boolean }) => {
      const { config, log } = baseServices();
      const db = await openDb(config, log);
      try {
        const loads = (await db.listLoads({ table: opts.table, status: opts.status, limit: 100 })).map(toLoadView);
        if (opts.json) process.stdout.write(`${JSON.stringify(loads, null, 2)}\n`);
        else for (const l of loads) process.stdout.write(`${l.loadId}  ${l.status.padEnd(8)} ${l.mode.padEnd(8)} ${l.table.padEnd(32)} ${String(l.rows).padStart(10)} rows  ${l.startedAt}\n`);
      } finally {
        await db.close();
      }
    });
  cmd
    .command('revert')
    .description('undo a finished load: restore the bkp copy (fullload) or delete its rows (append)')
    .argument('<loadId>')
    .action(async (loadId: string) => {
      const { config, log } = baseServices();
      const db = await openDb(config, log);
      try {
        const l = await revertLoad(db, loadId);
        announceLoadReverted(log, undefined, l);
        process.stdout.write(`reverted ${l.loadId}: ${l.mode === 'fullload' ? `${l.table} holds the previous contents again` : `${l.rows} rows deleted from ${l.table}${l.quarantined > 0 ? ` (its ${l.quarantined} quarantined rows were never in it)` : ''}`}\n`);
      } finally {
        await db.close();
      }
    });
  return cmd;
}
