// The seam between the gRPC server and the reporting logic that REST shares: what the server calls, nothing else.
import type { DeliveryStatusChange } from '../reporting/notifier';
import type { SubscribeRequest, SubscribeResponse, SubscriptionAction } from '../reporting/subscriptions';
import type { Caller, ReportInfo, ReportType } from '../reporting/types';
import type { DeliveryView, SubscriptionView } from '../reporting/views';

export interface StreamFilter {
  subscriberId: string;
  /** One subscription of the subscriber only. */
  subscriptionId?: string;
  /** Empty: every report type. */
  reportTypes: ReportType[];
}

/** One message of the stream: a report newly handed to the subscriber, or a status change of one of its deliveries. */
export type ReportUpdate =
  | { kind: 'report'; eventId: string; timestamp: string; report: Pick<ReportInfo, 'reportId' | 'reportType' | 'portfolioId' | 'reportPeriod' | 'filePath' | 'fileSizeBytes'>; deliveryIds: string[] }
  | { kind: 'delivery'; eventId: string; timestamp: string; change: DeliveryStatusChange };

/**
 * What REST (src/reporting/*.ts) already does, by the same rules: a subscriber key sees and changes only its own
 * subscriptions and deliveries (NOT_FOUND otherwise). Refusals are ReportingError (code, message, httpStatus).
 */
export interface ReportingService {
  /** The caller an API key stands for; null for an unknown or revoked key. */
  authenticate(apiKey: string): Promise<Caller | null>;
  subscribe(caller: Caller, req: SubscribeRequest): Promise<SubscribeResponse>;
  changeSubscription(caller: Caller, subscriptionId: string, action: SubscriptionAction): Promise<SubscriptionView>;
  deliveryStatus(caller: Caller, deliveryId: string): Promise<DeliveryView>;
  /**
   * Updates from now on until `signal` aborts. Access is checked before it resolves, so a refused stream fails
   * with a status instead of staying silent.
   */
  watch(caller: Caller, filter: StreamFilter, signal: AbortSignal): Promise<AsyncIterable<ReportUpdate>>;
}
