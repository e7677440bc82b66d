// `refdata api`: serves the REST API and its OpenAPI docs, and the gRPC ReportingStream beside it.
import { Command } from 'commander';
import { baseServices, openDb, openTemporal } from '../runtime';
import { buildApi } from '../api/server';
import { operationsOptions } from '../api/dashboard';
import { onShutdown } from './shutdown';
import { ensureSecretsKey } from '../reporting/secrets-key';
import { reportingOptionsFrom } from '../api/reporting';
import { startReportingGrpc } from '../grpc/from-config';

export function apiCommand(): Command {
  return new Command('api').description('serve the REST API (OpenAPI docs at /docs) and the gRPC ReportingStream').action(async () => {
    const { config, log } = baseServices();
    const db = await openDb(config, log);
    const { connection, client } = await openTemporal(config);
    const secrets = ensureSecretsKey(config).key;
    const app = await buildApi({ db, client, log, dropRoot: config.dropoffDir, adminKey: config.api.adminKey, planMaxBytes: config.api.planMaxBytes, uploadMaxBytes: config.api.uploadMaxBytes, stability: config.stability, bodyMaxBytes: config.api.bodyMaxBytes, reporting: reportingOptionsFrom(config, secrets), operations: operationsOptions(config), distribution: config.distribution, instruments: config.instruments, openReads: config.api.openReads, rateLimit: config.api.rateLimit, streamsPerKey: config.api.streamsPerKey, requestTimeoutMs: config.api.requestTimeoutMs });
    await app.listen({ host: config.api.host, port: config.api.port });
    // The same keys as REST (REFDATA_ADMIN_KEY and the stored ones); delivery changes come from the database poll.
    const grpcServer = await startReportingGrpc(config, { db, client, log, secretsKey: secrets, adminKey: config.api.adminKey });
    log.info(`API on http://${config.api.host}:${config.api.port} (docs at /docs); gRPC ReportingStream ${grpcServer ? `on ${grpcServer.address}` : 'off (REFDATA_GRPC_PORT=0)'}`);
    await onShutdown(log, [['api', () => app.close()], ['gRPC', async () => grpcServer?.stop()], ['temporal', () => connection.close()], ['database', () => db.close()]]);
  });
}
