// `refdata config`: shows the configuration table, or checks the current environment against it.
import { Command } from 'commander';
import { configTableMarkdown, loadConfig } from '../config';

export function configCommand(): Command {
  const cmd = new Command('config').description('configuration: documentation and checks');
  cmd.command('docs').description('print the configuration table (Markdown)').action(() => {
    process.stdout.write(`${configTableMarkdown()}\n`);
  });
  cmd.command('check').description('validate the environment and print the effective configuration').action(() => {
    const config = loadConfig();
    process.stdout.write(`${JSON.stringify({ ...config, api: { ...config.api, adminKey: config.api.adminKey ? '(set)' : undefined } }, null, 2)}\n`);
  });
  return cmd;
}
