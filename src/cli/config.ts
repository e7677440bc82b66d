// `refdata config`: shows the configuration table, checks the environment against it, or checks ref.reference_data_cfg.
import { Command } from 'commander';
import { configTableMarkdown, loadConfig } from '../config';
import { baseServices, openDb } from '../runtime';
import { describeProblems, problemCount, repairReferenceConfig, validateReferenceConfig } from '../reference-config';

export function configCommand(): Command {
  const cmd = new Command('config').description('configuration: documentation and checks');
  cmd.command('docs').description('print the configuration table (Markdown)').action(() => {
    process.stdout.write(`${configTableMarkdown()}\n`);
  });
  cmd.command('check').description('validate the environment and print the effective configuration').action(() => {
    const config = loadConfig();
    process.stdout.write(`${JSON.stringify({ ...config, api: { ...config.api, adminKey: config.api.adminKey ? '(set)' : undefined } }, null, 2)}\n`);
  });
  cmd
    .command('validate')
    .description('check every ref.reference_data_cfg row against the real tables; exits 1 while problems remain')
    .option('--repair', 'deactivate orphaned rows, insert missing ones, reactivate rows whose table is back')
    .option('--json', 'print JSON')
    .action(async (opts: { repair?: boolean; json?: boolean }) => {
      const { config, log } = baseServices();
      const db = await openDb(config, log);
      try {
        const found = await validateReferenceConfig(db);
        const repaired = opts.repair && problemCount(found) > 0 ? await repairReferenceConfig(db, found) : [];
        const remaining = repaired.length > 0 ? await validateReferenceConfig(db) : found;
        if (opts.json) process.stdout.write(`${JSON.stringify({ found, repaired, remaining }, null, 2)}\n`);
        else {
          const lines = describeProblems(found);
          process.stdout.write(lines.length === 0 ? 'reference config: every row matches a table, every reference table has a row\n' : `${lines.join('\n')}\n`);
          for (const r of repaired) process.stdout.write(`repaired: ${r}\n`);
          if (problemCount(remaining) > 0 && !opts.repair) process.stdout.write('run `refdata config validate --repair` to fix these\n');
        }
        if (problemCount(remaining) > 0) process.exitCode = 1;
      } finally {
        await db.close();
      }
    });
  return cmd;
}
