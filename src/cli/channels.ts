// `refdata channels list|resume`: delivery channels with their health, and resuming a paused (unhealthy) one by hand.
import { Command } from 'commander';
import { baseServices, openDb, openTemporal } from '../runtime';
import { cliCaller } from '../reporting/api-keys';
import { channelDetailView, resumeChannel, type ChannelDetailView } from '../reporting/channels';
import { secretsKeyFrom } from '../reporting/sealed-config';

const line = (c: ChannelDetailView) => {
  const h = c.health;
  const state = h.paused ? `${h.state} (paused, next probe ${h.next_probe_at ?? '-'})` : h.state;
  return `${c.channel_id.padEnd(24)} ${c.channel_type.padEnd(22)} ${(c.subscriber_id ?? '-').padEnd(20)} ${state.padEnd(20)} failures ${String(h.consecutive_failures).padStart(3)}` +
    `  last success ${h.last_success_at ?? '-'}${h.last_error ? `  last error ${h.last_error}` : ''}\n`;
};

export function channelsCommand(): Command {
  const cmd = new Command('channels').description('delivery channels: health, and resuming a paused one');
  cmd
    .command('list')
    .description('every channel with its state (healthy / unhealthy and paused / disabled), failures in a row, last success and next probe')
    .option('--subscriber <id>', 'only this subscriber\'s channels')
    .option('--unhealthy', 'only paused (unhealthy) channels')
    .option('--json', 'print JSON')
    .action(async (opts: { subscriber?: string; unhealthy?: boolean; json?: boolean }) => {
      const { config, log } = baseServices();
      const db = await openDb(config, log);
      try {
        const rows = (await db.distribution.listChannels({ subscriberId: opts.subscriber })).map(channelDetailView).filter((c) => !opts.unhealthy || c.health.paused);
        if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else for (const c of rows) process.stdout.write(line(c));
      } finally {
        await db.close();
      }
    });
  cmd
    .command('resume')
    .description('mark a channel healthy and unpaused now; its waiting deliveries send at once (for when the destination is known to be back)')
    .argument('<channel-id>')
    .option('--json', 'print JSON')
    .action(async (channelId: string, opts: { json?: boolean }) => {
      const { config, log } = baseServices();
      const db = await openDb(config, log);
      const temporal = await openTemporal(config);
      try {
        const secretsKey = config.reporting.secretsKey ? secretsKeyFrom(config.reporting.secretsKey) : null;
        const out = await resumeChannel(
          { db, client: temporal.client, secretsKey, allowPrivateDestinations: config.reporting.allowPrivateDestinations, log },
          cliCaller,
          channelId,
        );
        if (opts.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        else process.stdout.write(`${line(out)}resumed ${channelId}; woke ${out.woken} waiting deliveries\n`);
      } finally {
        await temporal.connection.close();
        await db.close();
      }
    });
  return cmd;
}
