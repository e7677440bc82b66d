// `refdata load FILE`: runs a file through its workflow now (no stability wait), with a progress bar; Ctrl-C offers to cancel.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline/promises';
import { Command } from 'commander';
import { WorkflowFailedError } from '@temporalio/client';
import { baseServices, openTemporal } from '../runtime';
import { classifyPath, dataKinds, loadModes } from '../drop-folders';
import { startFileWorkflowNow } from '../temporal/client';
import { progressQuery, type FileLifecycleResult, type FileProgress } from '../../workflows/file-lifecycle';

export function progressLine(p: FileProgress): string {
  const pct = p.totalBytes ? Math.min(100, Math.floor((p.bytes / p.totalBytes) * 100)) : null;
  const width = 30;
  const filled = pct === null ? 0 : Math.round((pct / 100) * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  return `${bar} ${pct === null ? '  ?' : String(pct).padStart(3)}%  ${p.phase.padEnd(12)} ${p.rows.toLocaleString('en')} rows  ${p.rowsPerSecond.toLocaleString('en')} rows/s`;
}

/** Puts a file from elsewhere into the drop folder it should load from; returns its new path. */
function placeInDropFolder(file: string, dropRoot: string, into: string | undefined): string {
  const abs = path.resolve(file);
  if (classifyPath(dropRoot, abs).kind === 'input') return abs;
  if (!into) {
    throw new Error(`${file} is not in a drop folder; pass --into <${dataKinds.join('|')}>/<${loadModes.join('|')}> to copy it into one`);
  }
  const target = path.join(dropRoot, into, path.basename(abs));
  if (classifyPath(dropRoot, target).kind !== 'input') throw new Error(`--into must be one of the four leaf folders, e.g. reference_data_table/fullload`);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = path.join(path.dirname(target), `.${path.basename(abs)}.${process.pid}.tmp`);
  fs.copyFileSync(abs, tmp);
  fs.renameSync(tmp, target);
  return target;
}

export function loadCommand(): Command {
  return new Command('load')
    .description('load a file now through its workflow (skips the stability wait), showing progress')
    .argument('<file>', 'a CSV in a drop folder, or anywhere with --into')
    .option('--into <folder>', 'copy the file into this leaf folder first, e.g. reference_data_table/fullload')
    .action(async (file: string, opts: { into?: string }) => {
      const { config } = baseServices();
      const filePath = placeInDropFolder(file, config.dropoffDir, opts.into);
      const { connection, client } = await openTemporal(config);
      try {
        // signal-with-start with loadNow: a run the watcher started first for this path ends its stability wait too.
        const started = await startFileWorkflowNow(client, { dropRoot: config.dropoffDir, filePath, stability: config.stability });
        if ('ignored' in started) throw new Error(`${filePath} was not loaded: ${started.ignored}`);
        const handle = client.workflow.getHandle<() => Promise<FileLifecycleResult>>(started.workflowId);
        process.stderr.write(`workflow ${started.workflowId} (${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows/${encodeURIComponent(started.workflowId)})\n`);
        const tty = process.stderr.isTTY === true;
        const timer = setInterval(async () => {
          const p = await handle.query(progressQuery).catch(() => null);
          if (p && tty) process.stderr.write(`\r${progressLine(p)}`);
        }, 500);
        process.once('SIGINT', async () => {
          let cancel = true;
          if (process.stdin.isTTY) {
            const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
            cancel = /^y/i.test(await rl.question('\ncancel this load? its rows are removed and the file goes to error/ [y/N] '));
            rl.close();
          }
          if (cancel) await handle.cancel();
        });
        try {
          const result = await handle.result();
          process.stderr.write(tty ? '\n' : '');
          process.stdout.write(`${result.status}: ${result.rows} rows into ${result.table ?? '-'}${result.archivedTo ? `; file now at ${result.archivedTo}` : ''}\n`);
          process.exitCode = result.status === 'loaded' || result.status === 'duplicate' ? 0 : 1;
        } catch (err) {
          const cause = err instanceof WorkflowFailedError ? err.cause : err;
          process.stderr.write(`\nload failed: ${(cause as Error)?.message ?? String(cause)}\n`);
          process.exitCode = 1;
        } finally {
          clearInterval(timer);
        }
      } finally {
        await connection.close();
      }
    });
}
