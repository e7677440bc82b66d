// `refdata deliveries list|replay|deliver-now`: find deliveries by status, time and channel, replay failed ones in bulk,
// and send what a held (ON_DEMAND, SCHEDULED, TRIGGERED) subscription collected.
import { Command, Option } from 'commander';
import { baseServices, openDb, openTemporal } from '../runtime';
import { channelTypes, type ChannelType } from '../channels/types';
import { cliCaller } from '../reporting/api-keys';
import { replayMatching } from '../reporting/deliveries';
import { deliverNow } from '../reporting/subscriptions';
import { parseSince } from '../since';
import { deliveryStatuses, type DeliveryStatus } from '../reporting/types';
import { deliveryView, type DeliveryView } from '../reporting/views';

const line = (d: DeliveryView) =>
  `${d.delivery_id}  ${d.status.padEnd(9)} ${d.channel.padEnd(22)} ${d.subscriber_id.padEnd(20)} ${d.report_id.padEnd(28)} retries ${String(d.retry_count).padStart(3)}  replays ${d.replay_count}  ${d.updated_at}\n`;

export function deliveriesCommand(): Command {
  const cmd = new Command('deliveries').description('report deliveries: list and replay');
  cmd
    .command('list')
    .description('deliveries changed since a time, oldest change first')
    .addOption(new Option('--status <status>').choices([...deliveryStatuses]))
    .option('--since <when>', 'duration back (30m, 24h, 7d) or ISO time', '24h')
    .addOption(new Option('--channel <type>').choices([...channelTypes]))
    .option('--subscriber <id>', 'only this subscriber')
    .option('--limit <n>', 'at most this many', '500')
    .option('--json', 'print JSON')
    .action(async (opts: { status?: DeliveryStatus; since: string; channel?: ChannelType; subscriber?: string; limit: string; json?: boolean }) => {
      const since = parseSince(opts.since);
      const { config, log } = baseServices();
      const db = await openDb(config, log);
      try {
        const rows = (await db.distribution.listDeliveries({ status: opts.status, since, channel: opts.channel, subscriberId: opts.subscriber, limit: Number(opts.limit) })).map(deliveryView);
        if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else for (const d of rows) process.stdout.write(line(d));
        if (!opts.json) process.stderr.write(`${rows.length} deliveries since ${since.toISOString()}\n`);
      } finally {
        await db.close();
      }
    });
  cmd
    .command('replay')
    .description('replay every matching delivery: a new run of each delivery id (receivers deduplicate on webhook-id)')
    .addOption(new Option('--status <status>', 'which deliveries').choices([...deliveryStatuses]).default('failed'))
    .option('--since <when>', 'changed since: duration back (30m, 24h, 7d) or ISO time', '24h')
    .addOption(new Option('--channel <type>').choices([...channelTypes]))
    .option('--reason <text>', 'shown in each run\'s summary in the Temporal UI', 'bulk replay from the CLI')
    .option('--dry-run', 'list what would be replayed; change nothing')
    .option('--json', 'print JSON')
    .action(async (opts: { status: DeliveryStatus; since: string; channel?: ChannelType; reason: string; dryRun?: boolean; json?: boolean }) => {
      const since = parseSince(opts.since);
      const { config, log } = baseServices();
      const db = await openDb(config, log);
      // A dry run reads the database only, so it works while Temporal is down.
      const temporal = opts.dryRun ? null : await openTemporal(config);
      try {
        const deps = { db, client: temporal?.client, reportRoots: config.reporting.reportRoots, retry: config.reporting.retry };
        const out = await replayMatching(deps, cliCaller, { status: opts.status, since, channel: opts.channel }, opts.dryRun ?? false, opts.reason);
        if (opts.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        else {
          for (const d of out.matched) process.stdout.write(line(d));
          for (const r of out.refused) process.stderr.write(`not replayed ${r.delivery_id}: ${r.reason}\n`);
          const what = opts.dryRun ? 'would be replayed (dry run)' : `replayed, ${out.refused.length} refused`;
          process.stderr.write(`${out.matched.length} ${opts.status} deliveries since ${since.toISOString()}${opts.channel ? ` on ${opts.channel}` : ''}: ${opts.dryRun ? out.matched.length : out.replayed.length} ${what}\n`);
        }
        if (out.refused.length > 0) process.exitCode = 1;
      } finally {
        await temporal?.connection.close();
        await db.close();
      }
    });
  cmd
    .command('deliver-now <subscription-id>')
    .description('send what a subscription holds now (ON_DEMAND; SCHEDULED or TRIGGERED ahead of time): each held delivery starts its run, once')
    .option('--json', 'print JSON')
    .action(async (subscriptionId: string, opts: { json?: boolean }) => {
      const { config, log } = baseServices();
      const db = await openDb(config, log);
      const temporal = await openTemporal(config);
      try {
        const deps = { db, client: temporal.client, secretsKey: null, allowPrivateDestinations: config.reporting.allowPrivateDestinations, retry: config.reporting.retry };
        const out = await deliverNow(deps, cliCaller, subscriptionId);
        if (opts.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        else {
          for (const d of out.released) process.stdout.write(line(d));
          process.stderr.write(`${out.released.length} held deliveries of ${subscriptionId} released\n`);
        }
      } finally {
        await temporal.connection.close();
        await db.close();
      }
    });
  return cmd;
}
