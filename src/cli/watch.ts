// `refdata watch`: watches the drop folders and starts one workflow per dropped file.
import { Command } from 'commander';
import { baseServices, openTemporal } from '../runtime';
import { startWatcher } from '../watcher';
import { onShutdown } from './shutdown';

export function watchCommand(): Command {
  return new Command('watch')
    .description('watch the drop folders and start a workflow per dropped file')
    .option('--poll', 'poll the file system instead of using change events (network shares)')
    .action(async (opts: { poll?: boolean }) => {
      const { config, log } = baseServices();
      const { connection, client } = await openTemporal(config);
      const watcher = await startWatcher({ client, dropRoot: config.dropoffDir, stability: config.stability, log, usePolling: opts.poll });
      await onShutdown(log, [['watcher', () => watcher.close()], ['temporal', () => connection.close()]]);
    });
}
