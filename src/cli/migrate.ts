// `refdata migrate [--status]`: applies pending migrations, or lists which are applied.
import { Command } from 'commander';
import { baseServices, openDb } from '../runtime';

export function migrateCommand(): Command {
  return new Command('migrate')
    .description('apply pending database migrations')
    .option('--status', 'only list migrations and whether each is applied')
    .action(async (opts: { status?: boolean }) => {
      const { config, log } = baseServices();
      const db = await openDb(config, log, false);
      try {
        const list = opts.status ? await db.migrationStatus() : await db.migrate();
        for (const m of list) {
          process.stdout.write(`${String(m.version).padStart(3, '0')} ${m.name.padEnd(30)} ${m.appliedAt ? `applied ${m.appliedAt.toISOString()}` : 'pending'}\n`);
        }
      } finally {
        await db.close();
      }
    });
}
