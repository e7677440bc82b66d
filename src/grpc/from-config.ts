// Starts ReportingStream the way every process that serves the API does (`refdata dev`, `refdata api`): same port, same keys.
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Database } from '../db/types';
import type { Logger } from '../log/logger';
import type { DeliveryNotifier } from '../reporting/notifier';
import type { SecretsKey } from '../reporting/sealed-config';
import { createReportingService } from './reporting-service';
import { startGrpcServer, type RunningGrpcServer } from './server';

export interface ReportingGrpcDeps {
  db: Database;
  client: Client;
  log: Logger;
  secretsKey: SecretsKey;
  /** The admin key REST accepts in this process, so both doors take the same keys. */
  adminKey?: string;
  /** Delivery changes made in this process (dev); without it the stream reads them from the database. */
  feed?: DeliveryNotifier;
}

/** null when REFDATA_GRPC_PORT is 0 (gRPC off). */
export async function startReportingGrpc(config: Config, deps: ReportingGrpcDeps): Promise<RunningGrpcServer | null> {
  if (config.grpc.port === 0) return null;
  return startGrpcServer({
    service: createReportingService({
      db: deps.db, client: deps.client, secretsKey: deps.secretsKey, allowPrivateDestinations: config.reporting.allowPrivateDestinations,
      adminKey: deps.adminKey, feed: deps.feed, pollMs: config.reporting.streamPollMs,
    }),
    log: deps.log, host: config.api.host, port: config.grpc.port, streamsPerKey: config.api.streamsPerKey,
  });
}
