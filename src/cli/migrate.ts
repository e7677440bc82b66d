// `refdata migrate [--status | --down-to N]`: applies pending migrations, lists which are applied, or rolls back.
import { Command, InvalidArgumentError } from 'commander';
import { baseServices, openDb } from '../runtime';
import type { MigrationStatus } from '../db/types';

const line = (m: MigrationStatus) => `${String(m.version).padStart(3, '0')} ${m.name.padEnd(30)} ${m.appliedAt ? `applied ${m.appliedAt.toISOString()}` : 'pending'}\n`;

function migrationNumber(text: string): number {
  if (!/^\d{1,3}$/.test(text)) throw new InvalidArgumentError('a migration number such as 3 (0 undoes every migration)');
  return Number(text);
}

export function migrateCommand(): Command {
  return new Command('migrate')
    .description('apply pending database migrations (or roll back with --down-to)')
    .option('--status', 'only list migrations and whether each is applied')
    .option('--down-to <N>', 'apply the down files of every applied migration above N, newest first, each in its own transaction', migrationNumber)
    .action(async (opts: { status?: boolean; downTo?: number }) => {
      const { config, log } = baseServices();
      const db = await openDb(config, log, false);
      try {
        if (opts.downTo !== undefined) {
          const before = await db.migrationStatus();
          const after = await db.migrateDown(opts.downTo);
          const undone = before.filter((m) => m.appliedAt && !after.find((a) => a.version === m.version)?.appliedAt).sort((a, b) => b.version - a.version);
          for (const m of undone) process.stdout.write(`rolled back ${String(m.version).padStart(3, '0')}_${m.name}\n`);
          if (undone.length === 0) process.stdout.write(`nothing to roll back: no applied migration above ${opts.downTo}\n`);
          for (const m of after) process.stdout.write(line(m));
          return;
        }
        const list = opts.status ? await db.migrationStatus() : await db.migrate();
        for (const m of list) process.stdout.write(line(m));
      } finally {
        await db.close();
      }
    });
}
