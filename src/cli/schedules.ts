// `refdata schedules apply`: creates or updates every Temporal Schedule refdata owns (idempotent; `npm start` does it too).
import { Command } from 'commander';
import { baseServices, openTemporal } from '../runtime';
import { applySchedules, scheduleSpecs } from '../temporal/schedules';

export function schedulesCommand(): Command {
  const cmd = new Command('schedules').description('the Temporal Schedules refdata keeps (daily instrument sync, …)');
  cmd
    .command('apply')
    .description('create each schedule, or update it in place from the current configuration')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      const { config } = baseServices();
      const { connection, client } = await openTemporal(config);
      try {
        const specs = scheduleSpecs(config);
        const applied = await applySchedules(client, specs);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(applied, null, 2)}\n`);
          return;
        }
        for (const a of applied) {
          const s = specs.find((x) => x.scheduleId === a.scheduleId)!;
          process.stdout.write(`${a.action.padEnd(8)} ${a.scheduleId}: ${s.cron} (${s.timeZone})${a.paused ? `, paused${s.pausedReason ? ` (${s.pausedReason})` : ''}` : ''}\n`);
        }
      } finally {
        await connection.close();
      }
    });
  return cmd;
}
