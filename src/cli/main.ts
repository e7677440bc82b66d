// The `refdata` command line: one subcommand per file in this folder.
import { Command } from 'commander';
import { ConfigError } from '../config';
import { devCommand } from './dev';
import { workerCommand } from './worker';
import { apiCommand } from './api';
import { watchCommand } from './watch';
import { migrateCommand } from './migrate';
import { planCommand } from './plan';
import { configCommand } from './config';
import { bundleCommand } from './bundle';
import { loadsCommand } from './loads';
import { loadCommand } from './load';
import { syncCommand } from './sync';
import { schedulesCommand } from './schedules';
import { tablesCommand } from './tables';
import { errorsCommand } from './errors';
import { doctorCommand } from './doctor';
import { keysCommand } from './keys';
import { deliveriesCommand } from './deliveries';
import { distributeCommand } from './distribute';
import { channelsCommand } from './channels';
import { docsCommand } from './docs';
import { failureMessage } from './failure-message';

const program = new Command('refdata')
  .description('Reference-data platform: drop-folder ingestion, instrument sync, distribution and delivery on Temporal')
  .showHelpAfterError();

for (const cmd of [devCommand(), workerCommand(), apiCommand(), watchCommand(), migrateCommand(), planCommand(), configCommand(), bundleCommand(), loadsCommand(), loadCommand(), syncCommand(), schedulesCommand(), tablesCommand(), errorsCommand(), doctorCommand(), keysCommand(), deliveriesCommand(), channelsCommand(), distributeCommand(), docsCommand()]) {
  program.addCommand(cmd);
}

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`refdata: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`refdata: ${failureMessage(err)}\n`);
  process.exit(1);
});
