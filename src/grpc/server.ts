// The gRPC ReportingStream server (proto/reporting.proto) on its own port, calling the logic REST shares.
import { once } from 'node:events';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Logger } from '../log/logger';
import { ReportingError } from '../reporting/errors';
import type { Caller } from '../reporting/types';
import {
  deliveryMsgOf, reportMessageOf, streamFilterOf, subscriptionCommandOf, subscriptionMsgOf,
  type DeliveryStatusMsg, type DeliveryStatusRequestMsg, type ReportMessageMsg, type StreamRequestMsg, type SubscriptionRequestMsg, type SubscriptionResponseMsg,
} from './messages';
import type { ReportingService } from './service';
import { createStreamLimiter, type StreamLimiter } from '../api/stream-limits';

export const PROTO_PATH = path.resolve(__dirname, '../../proto/reporting.proto');
/** Field names as in the .proto, enums as their names, unset fields filled with defaults; clients use the same. */
export const PROTO_OPTIONS: protoLoader.Options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };
export const SERVICE_NAME = 'refdata.reporting.v1.ReportingStream';

/** The ReportingStream service definition, for a server (addService) or a client (makeGenericClientConstructor). */
export function reportingServiceDefinition(): grpc.ServiceDefinition {
  const pkg = protoLoader.loadSync(PROTO_PATH, PROTO_OPTIONS);
  return pkg[SERVICE_NAME] as grpc.ServiceDefinition;
}

/** A refusal as a gRPC status: REST's HTTP statuses mapped to their gRPC counterparts. */
function statusOf(err: unknown, log: Logger): Partial<grpc.StatusObject> {
  const http = err instanceof ReportingError ? err.httpStatus : (err as { statusCode?: unknown })?.statusCode;
  const code = err instanceof ReportingError ? err.code : String((err as { code?: unknown })?.code ?? 'ERROR');
  const message = err instanceof Error ? err.message : String(err);
  const byHttp: Record<number, grpc.status> = {
    400: grpc.status.INVALID_ARGUMENT,
    401: grpc.status.UNAUTHENTICATED,
    403: grpc.status.PERMISSION_DENIED,
    404: grpc.status.NOT_FOUND,
    409: code.endsWith('_EXISTS') ? grpc.status.ALREADY_EXISTS : grpc.status.FAILED_PRECONDITION,
    503: grpc.status.UNAVAILABLE,
  };
  if (typeof http === 'number' && byHttp[http] !== undefined) return { code: byHttp[http], details: `${code}: ${message}` };
  log.error({ err }, 'gRPC call failed');
  return { code: grpc.status.INTERNAL, details: 'internal error; see the API log' };
}

const unauthenticated: Partial<grpc.StatusObject> = { code: grpc.status.UNAUTHENTICATED, details: 'UNAUTHENTICATED: send an API key as metadata authorization: Bearer <key>' };

export function reportingHandlers(service: ReportingService, log: Logger, streams: StreamLimiter = createStreamLimiter(20)): grpc.UntypedServiceImplementation {
  const keyOf = (metadata: grpc.Metadata): string | null => {
    const value = metadata.get('authorization')[0];
    const m = typeof value === 'string' ? /^Bearer\s+(.+)$/i.exec(value) : null;
    return m ? m[1]!.trim() : null;
  };
  async function callerOf(metadata: grpc.Metadata): Promise<Caller | null> {
    const key = keyOf(metadata);
    return key ? service.authenticate(key) : null;
  }

  /** A unary method: authenticate, run, answer or map the refusal. */
  function unary<Req, Res>(run: (caller: Caller, req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      void (async () => {
        const caller = await callerOf(call.metadata);
        if (!caller) return callback(unauthenticated);
        callback(null, await run(caller, call.request));
      })().catch((err: unknown) => callback(statusOf(err, log)));
    };
  }

  const manageSubscription = unary<SubscriptionRequestMsg, SubscriptionResponseMsg>(async (caller, req) => {
    const command = subscriptionCommandOf(req);
    if (command.action === 'create') {
      const res = await service.subscribe(caller, command.body);
      const s = res.subscription;
      return { subscription_id: s.subscription_id, status: s.status, message: 'subscription created', subscription: subscriptionMsgOf(s), generated_secrets: res.generated_secrets };
    }
    const s = await service.changeSubscription(caller, command.subscriptionId, command.action);
    return { subscription_id: s.subscription_id, status: s.status, message: `subscription ${s.status}`, subscription: subscriptionMsgOf(s), generated_secrets: [] };
  });

  const getDeliveryStatus = unary<DeliveryStatusRequestMsg, DeliveryStatusMsg>(async (caller, req) => {
    if (!req.delivery_id) throw new ReportingError('NO_DELIVERY_ID', 'delivery_id is required', 400);
    return deliveryMsgOf(await service.deliveryStatus(caller, req.delivery_id));
  });

  const streamReports: grpc.handleServerStreamingCall<StreamRequestMsg, ReportMessageMsg> = (call) => {
    const stop = new AbortController();
    // The client went away (cancelled, deadline, disconnect) or the server is shutting down.
    call.on('cancelled', () => stop.abort());
    call.on('close', () => stop.abort());
    void (async () => {
      const caller = await callerOf(call.metadata);
      if (!caller) {
        call.emit('error', unauthenticated);
        return;
      }
      const release = streams.acquire(keyOf(call.metadata)!);
      if (!release) {
        call.emit('error', { code: grpc.status.RESOURCE_EXHAUSTED, details: `RESOURCE_EXHAUSTED: this key holds ${streams.maxPerKey} open streams, the most it may (REFDATA_STREAMS_PER_KEY); close one first` });
        return;
      }
      // Given back when the client goes, and when the stream ends on our side whatever the reason.
      stop.signal.addEventListener('abort', release, { once: true });
      try {
        const updates = await service.watch(caller, streamFilterOf(call.request), stop.signal);
        // Headers now, so a client knows the stream is live before the first update.
        call.sendMetadata(new grpc.Metadata());
        for await (const update of updates) {
          if (stop.signal.aborted) break;
          if (!call.write(reportMessageOf(update))) await Promise.race([once(call, 'drain'), once(stop.signal, 'abort')]);
        }
      } finally {
        release();
      }
      if (!call.cancelled) call.end();
    })().catch((err: unknown) => {
      if (!call.cancelled) call.emit('error', statusOf(err, log));
    });
  };

  return {
    // The .proto's method names; grpc-js also finds these under their camelCase originalName.
    StreamReports: streamReports,
    ManageSubscription: manageSubscription,
    GetDeliveryStatus: getDeliveryStatus,
  };
}

export interface GrpcServerOptions {
  service: ReportingService;
  log: Logger;
  host: string;
  /** 0 picks a free port (tests); the CLI does not start the server when REFDATA_GRPC_PORT is 0. */
  port: number;
  /** Open StreamReports calls one key may hold (REFDATA_STREAMS_PER_KEY). */
  streamsPerKey?: number;
}

export interface RunningGrpcServer {
  port: number;
  address: string;
  /** Lets calls finish for `graceMs`, then cuts open streams. */
  stop(graceMs?: number): Promise<void>;
}

export async function startGrpcServer(opts: GrpcServerOptions): Promise<RunningGrpcServer> {
  const log = opts.log.child({ component: 'grpc' });
  const server = new grpc.Server();
  server.addService(reportingServiceDefinition(), reportingHandlers(opts.service, log, createStreamLimiter(opts.streamsPerKey ?? 20)));
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  // TLS is left to a proxy in front (as for the REST API); by default this listens on loopback only.
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${opts.port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  const address = `${host}:${port}`;
  log.info({ address }, 'gRPC ReportingStream listening');
  return {
    port,
    address,
    async stop(graceMs = 5_000) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
