// `refdata dev` (= `npm start`): Temporal dev server, migrations, worker, API and watcher in one command.
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { Client } from '@temporalio/client';
import { baseServices, ensureAdminKey, openDb, openTemporal } from '../runtime';
import type { Config } from '../config';
import type { Database } from '../db/types';
import { embeddedDataDir } from '../db';
import { embeddedStatus } from '../db/postgres/embedded-server';
import { resolveTemporalCli } from '../temporal/cli-path';
import { startDevServer, type DevServer } from '../temporal/dev-server';
import { devServerDynamicConfigArgs, devServerSearchAttributeArgs } from '../ids';
import { startWorker } from '../../workers/worker';
import { buildApi } from '../api/server';
import { operationsOptions } from '../api/dashboard';
import { applySchedules, scheduleSpecs } from '../temporal/schedules';
import { ensureSearchAttributes } from '../temporal/search-attributes';
import { startWatcher } from '../watcher';
import { onShutdown } from './shutdown';
import { ensureSecretsKey } from '../reporting/secrets-key';
import { devBanner } from './banner';
import { createDeliveryNotifier } from '../reporting/notifier';
import { reportingOptionsFrom } from '../api/reporting';
import { startEventRelay } from '../events';
import { startDeliveriesVia } from '../events/start-deliveries';
import { createOutboxPublisher } from '../events/outbox-publisher';
import { deliveredTopic } from '../reporting/event';
import { startReportingGrpc } from '../grpc/from-config';

export function devCommand(): Command {
  return new Command('dev').description('run everything locally: Temporal dev server, worker, API, watcher').action(async () => {
    const { config, log } = baseServices();
    fs.mkdirSync(config.stateDir, { recursive: true });
    let devServer: DevServer | null = null;
    if (!config.temporal.address) {
      devServer = await startDevServer({
        cliPath: resolveTemporalCli(),
        port: config.temporal.devPort,
        uiPort: config.temporal.devUiPort,
        dbFilename: path.join(config.stateDir, 'temporal.db'),
        namespace: config.temporal.namespace,
        searchAttributeArgs: [...devServerSearchAttributeArgs(), ...devServerDynamicConfigArgs()],
        logFile: path.join(config.stateDir, 'temporal.log'),
      });
      log.info({ address: devServer.address }, 'Temporal dev server started');
    }
    const stopServer = async () => devServer?.stop();
    let db: Database | null = null;
    try {
      db = await openDb(config, log);
      const { connection, client, address } = await openTemporal(config);
      if (devServer) {
        // Its database may predate an attribute this version sets (start-dev registers them only in a new database).
        const added = await ensureSearchAttributes(connection, config.temporal.namespace);
        if (added.length) log.info({ added }, `registered search attribute(s) ${added.join(', ')} missing from ${path.join(config.stateDir, 'temporal.db')}`);
      }
      const admin = ensureAdminKey(config);
      // One process: the worker's delivery status feed goes straight to the API's WebSocket stream.
      const secrets = ensureSecretsKey(config).key;
      const deliveryFeed = createDeliveryNotifier();
      // Outbox relay to Kafka (KAFKA_BROKERS) or the in-process bus; upstream report events start deliveries.
      const events = await startEventRelay({
        db, config, log,
        startDeliveries: startDeliveriesVia({
          db, client, reportRoots: config.reporting.reportRoots, retry: config.reporting.retry,
          events: createOutboxPublisher(db.outbox), topicFor: (reportType) => deliveredTopic(reportType, config.events.topics.deliveredTemplate),
        }),
      });
      const worker = await startWorker({ address, namespace: config.temporal.namespace, client, db, log, config, workflowBundlePath: config.workflowBundle, delivery: { secretsKey: secrets, feed: deliveryFeed, events: events.publisher } });
      for (const s of await applySchedules(client, scheduleSpecs(config))) log.info(s, `schedule ${s.scheduleId} ${s.action}${s.paused ? ' (paused)' : ''}`);
      // Deliveries start through the worker's own connection, eagerly: the first workflow task comes back with the start.
      const deliveryClient = new Client({ connection: worker.connection, namespace: config.temporal.namespace });
      const app = await buildApi({ db, client, log, dropRoot: config.dropoffDir, adminKey: admin.key, planMaxBytes: config.api.planMaxBytes, uploadMaxBytes: config.api.uploadMaxBytes, stability: config.stability, bodyMaxBytes: config.api.bodyMaxBytes, reporting: { ...reportingOptionsFrom(config, secrets, deliveryFeed, deliveryClient), events: events.publisher }, operations: operationsOptions(config), distribution: config.distribution, instruments: config.instruments, openReads: config.api.openReads, rateLimit: config.api.rateLimit, streamsPerKey: config.api.streamsPerKey, requestTimeoutMs: config.api.requestTimeoutMs });
      await app.listen({ host: config.api.host, port: config.api.port });
      const grpcServer = await startReportingGrpc(config, { db, client, log, secretsKey: secrets, adminKey: admin.key, feed: deliveryFeed });
      const watcher = await startWatcher({ client, dropRoot: config.dropoffDir, stability: config.stability, log });

      const apiUrl = `http://${config.api.host === '0.0.0.0' ? 'localhost' : config.api.host}:${config.api.port}`;
      process.stdout.write(
        devBanner({
          apiUrl,
          temporalUiUrl: devServer?.uiUrl ?? config.temporal.uiUrl,
          grpc: grpcServer ? `${grpcServer.address} (ReportingStream, proto/reporting.proto)` : 'off (REFDATA_GRPC_PORT=0)',
          events: `${events.transport === 'kafka' ? `Kafka ${config.events.kafka?.brokers.join(',')}` : 'in-process bus (KAFKA_BROKERS unset)'}, through the outbox`,
          dropFolder: `${config.dropoffDir}/{reference_data_table,none_reference_data_table}/{fullload,append}/`,
          database: db.kind === 'embedded' ? embeddedLine(config) : db.kind,
          adminKeyFromEnv: Boolean(config.api.adminKey),
          adminKeyGenerated: admin.generated,
          stateDir: config.stateDir,
        }),
      );
      let stopping = false;
      const steps: Array<[string, () => Promise<unknown>]> = [
        ['watcher', () => watcher.close()],
        ['api', () => app.close()],
        ['gRPC', async () => grpcServer?.stop()],
        ['worker', () => worker.shutdown()],
        ['events', () => events.stop()],
        ['temporal client', () => connection.close()],
        ['database', () => db!.close()],
        ['Temporal dev server', stopServer],
      ];
      const stopped = onShutdown(log, [['begin', async () => (stopping = true)], ...steps]);
      // A worker that dies on its own (not through Ctrl-C) takes the rest down with it, with a non-zero exit.
      const crashed = worker.done.catch((err: Error) => log.error({ err: err.message }, 'worker failed')).then(async () => {
        if (stopping) return;
        stopping = true;
        log.error('worker stopped unexpectedly; shutting down');
        for (const [, step] of steps) await step().catch(() => undefined);
        process.exitCode = 1;
      });
      await Promise.race([stopped, crashed]);
    } catch (err) {
      // The embedded PostgreSQL is a process of its own: a failed start must not leave it running.
      await db?.close().catch(() => undefined);
      await stopServer();
      throw err;
    }
  });
}

/** Where the embedded server lives and how another client reaches it (psql, a BI tool). */
function embeddedLine(config: Config): string {
  const s = embeddedStatus(embeddedDataDir(config));
  return `embedded PostgreSQL ${s.major ?? ''} in ${s.dataDir}, ${s.displayUrl ?? 'not running'} (password in ${s.files.password}; server log ${s.files.log})`;
}
