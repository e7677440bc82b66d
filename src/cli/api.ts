// `refdata api`: serves the REST API and its OpenAPI docs.
import { Command } from 'commander';
import { baseServices, openDb, openTemporal } from '../runtime';
import { buildApi } from '../api/server';
import { operationsOptions } from '../api/dashboard';
import { onShutdown } from './shutdown';
import { ensureSecretsKey } from '../reporting/secrets-key';
import { reportingOptionsFrom } from '../api/reporting';

export function apiCommand(): Command {
  return new Command('api').description('serve the REST API (OpenAPI docs at /docs)').action(async () => {
    const { config, log } = baseServices();
    const db = await openDb(config, log);
    const { connection, client } = await openTemporal(config);
    const app = await buildApi({ db, client, log, dropRoot: config.dropoffDir, adminKey: config.api.adminKey, planMaxBytes: config.api.planMaxBytes, uploadMaxBytes: config.api.uploadMaxBytes, stability: config.stability, bodyMaxBytes: config.api.bodyMaxBytes, reporting: reportingOptionsFrom(config, ensureSecretsKey(config).key), operations: operationsOptions(config), distribution: config.distribution, instruments: config.instruments, openReads: config.api.openReads, rateLimit: config.api.rateLimit, streamsPerKey: config.api.streamsPerKey, requestTimeoutMs: config.api.requestTimeoutMs });
    await app.listen({ host: config.api.host, port: config.api.port });
    log.info(`API on http://${config.api.host}:${config.api.port} (docs at /docs)`);
    await onShutdown(log, [['api', () => app.close()], ['temporal', () => connection.close()], ['database', () => db.close()]]);
  });
}
