// `refdata bundle --out FILE`: builds the workflow bundle once, so workers start without bundling (faster, less memory).
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

export function bundleCommand(): Command {
  return new Command('bundle')
    .description('build the workflow bundle for REFDATA_WORKFLOW_BUNDLE')
    .requiredOption('--out <file>', 'where to write the bundle')
    .action(async (opts: { out: string }) => {
      const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: new DefaultLogger('WARN') });
      fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
      fs.writeFileSync(opts.out, code);
      process.stdout.write(`workflow bundle written to ${opts.out} (${Math.round(code.length / 1024)} KiB); set REFDATA_WORKFLOW_BUNDLE=${path.resolve(opts.out)}\n`);
    });
}
