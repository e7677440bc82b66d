// proto/reporting.proto messages ⇄ the reporting service's requests and views (field names as in the .proto).
import { z } from 'zod';
import { channelTypes, isChannelType } from '../channels';
import type { ChannelRequest, SubscribeRequest, SubscriptionAction } from '../reporting/subscriptions';
import { badRequest } from '../reporting/errors';
import type { DeliveryStatusChange } from '../reporting/notifier';
import { reportTypes, subscriptionTypes, type ReportType, type SubscriptionType } from '../reporting/types';
import type { DeliveryView, SubscriptionView } from '../reporting/views';
import type { ReportUpdate, StreamFilter } from './service';

// Decoded requests, as @grpc/proto-loader hands them over with keepCase, enums as String and defaults filled in.
export interface StreamRequestMsg {
  subscriber_id: string;
  subscription_id: string;
  report_types: string[];
}
export interface ChannelSpecMsg {
  channel_type: string;
  config_json: string;
  channel_id: string;
  enabled: boolean;
  disabled_reason: string;
}
export interface DeliveryPreferencesMsg {
  channels: ChannelSpecMsg[];
  schedule: string;
  format_preferences: string[];
  notification_settings_json: string;
}
export interface ReportSubscriptionMsg {
  subscription_id: string;
  subscriber_id: string;
  subscriber_type: string;
  report_types: string[];
  delivery_preferences: DeliveryPreferencesMsg | null;
  filters_json: string;
  status: string;
  created_at: string;
}
export interface SubscriptionRequestMsg {
  action: string;
  subscription_id: string;
  subscription: ReportSubscriptionMsg | null;
}
export interface DeliveryStatusRequestMsg {
  delivery_id: string;
}
export interface DeliveryStatusMsg {
  delivery_id: string;
  subscription_id: string;
  report_id: string;
  channel: string;
  status: string;
  delivery_time: string;
  retry_count: number;
  error_details: string;
  subscriber_id: string;
  report_type: string;
  replay_count: number;
  updated_at: string;
}
export interface ReportMessageMsg {
  event_id: string;
  timestamp: string;
  report?: { report_id: string; report_type: string; portfolio_id: string; report_period: string; file_path: string; file_size_bytes: number; delivery_ids: string[] };
  delivery?: DeliveryStatusMsg;
}
export interface SubscriptionResponseMsg {
  subscription_id: string;
  status: string;
  message: string;
  subscription: ReportSubscriptionMsg;
  generated_secrets: { channel_id: string; secret: string }[];
}

const UNSPECIFIED = /_UNSPECIFIED$/;

function reportTypesOf(values: string[], field: string): ReportType[] {
  return values.map((v) => {
    if (!(reportTypes as readonly string[]).includes(v)) throw badRequest('INVALID_REPORT_TYPE', `${field}: unknown report type ${v}`);
    return v as ReportType;
  });
}

export function streamFilterOf(req: StreamRequestMsg): StreamFilter {
  return {
    subscriberId: req.subscriber_id,
    ...(req.subscription_id ? { subscriptionId: req.subscription_id } : {}),
    reportTypes: reportTypesOf(req.report_types, 'report_types'),
  };
}

const jsonObject = z.record(z.string(), z.unknown());
const filtersSchema = z.object({ portfolio_ids: z.array(z.string()).optional(), metadata: z.record(z.string(), z.string()).optional() }).strict();

function parseJson<T>(text: string, schema: z.ZodType<T>, field: string): T | undefined {
  if (!text.trim()) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest('INVALID_JSON', `${field} is not JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw badRequest('INVALID_JSON', `${field}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(value)'} ${i.message}`).join('; ')}`);
  return parsed.data;
}

function channelRequestOf(c: ChannelSpecMsg, i: number): ChannelRequest {
  if (!isChannelType(c.channel_type)) throw badRequest('INVALID_CHANNEL', `delivery_preferences.channels[${i}]: unknown channel type ${c.channel_type}`);
  const config = parseJson(c.config_json, jsonObject, `delivery_preferences.channels[${i}].config_json`);
  return config ? { channel_type: c.channel_type, config } : c.channel_type;
}

/** ManageSubscription → what to do; CREATE carries the new subscription as REST's subscribe body. */
export function subscriptionCommandOf(req: SubscriptionRequestMsg): { action: 'create'; body: SubscribeRequest } | { action: SubscriptionAction; subscriptionId: string } {
  if (req.action === 'CREATE') {
    const s = req.subscription;
    if (!s) throw badRequest('NO_SUBSCRIPTION', 'CREATE needs subscription');
    if (!s.subscriber_id) throw badRequest('NO_SUBSCRIBER', 'subscription.subscriber_id is required');
    let subscriberType: SubscriptionType | undefined;
    if (!UNSPECIFIED.test(s.subscriber_type)) {
      if (!(subscriptionTypes as readonly string[]).includes(s.subscriber_type)) throw badRequest('INVALID_SUBSCRIBER_TYPE', `unknown subscriber type ${s.subscriber_type}`);
      subscriberType = s.subscriber_type as SubscriptionType;
    }
    const prefs = s.delivery_preferences;
    const filters = parseJson(s.filters_json, filtersSchema, 'subscription.filters_json');
    const settings = prefs ? parseJson(prefs.notification_settings_json, jsonObject, 'delivery_preferences.notification_settings_json') : undefined;
    return {
      action: 'create',
      body: {
        ...(s.subscription_id ? { subscription_id: s.subscription_id } : {}),
        subscriber_id: s.subscriber_id,
        ...(subscriberType ? { subscriber_type: subscriberType } : {}),
        report_types: reportTypesOf(s.report_types, 'subscription.report_types'),
        delivery_preferences: {
          channels: (prefs?.channels ?? []).map(channelRequestOf),
          schedule: prefs?.schedule || null,
          format_preferences: prefs?.format_preferences ?? [],
          ...(settings ? { notification_settings: settings } : {}),
        },
        filters: filters ?? null,
      },
    };
  }
  const action = ({ PAUSE: 'pause', RESUME: 'resume', CANCEL: 'cancel' } as const)[req.action as 'PAUSE' | 'RESUME' | 'CANCEL'];
  if (!action) throw badRequest('INVALID_ACTION', 'action must be CREATE, PAUSE, RESUME or CANCEL');
  if (!req.subscription_id) throw badRequest('NO_SUBSCRIPTION_ID', `${req.action} needs subscription_id`);
  return { action, subscriptionId: req.subscription_id };
}

const enumOr = (value: string, allowed: readonly string[], unspecified: string) => (allowed.includes(value) ? value : unspecified);

export function subscriptionMsgOf(v: SubscriptionView): ReportSubscriptionMsg {
  return {
    subscription_id: v.subscription_id,
    subscriber_id: v.subscriber_id,
    subscriber_type: enumOr(v.subscriber_type, subscriptionTypes, 'SUBSCRIPTION_TYPE_UNSPECIFIED'),
    report_types: v.report_types.map((t) => enumOr(t, reportTypes, 'REPORT_DATA_TYPE_UNSPECIFIED')),
    delivery_preferences: {
      channels: v.delivery_preferences.channels.map((c) => ({
        channel_type: enumOr(c.channel_type, channelTypes, 'DELIVERY_CHANNEL_UNSPECIFIED'),
        // Redacted by the view: secrets show as "***".
        config_json: JSON.stringify(c.config ?? {}),
        channel_id: c.channel_id,
        enabled: c.enabled,
        disabled_reason: c.disabled_reason ?? '',
      })),
      schedule: v.delivery_preferences.schedule ?? '',
      format_preferences: v.delivery_preferences.format_preferences,
      notification_settings_json: JSON.stringify(v.delivery_preferences.notification_settings),
    },
    filters_json: v.filters ? JSON.stringify(v.filters) : '',
    status: v.status,
    created_at: v.created_at,
  };
}

export function deliveryMsgOf(d: DeliveryView | DeliveryStatusChange): DeliveryStatusMsg {
  return {
    delivery_id: d.delivery_id,
    subscription_id: d.subscription_id,
    report_id: d.report_id,
    channel: enumOr(d.channel, channelTypes, 'DELIVERY_CHANNEL_UNSPECIFIED'),
    status: d.status,
    delivery_time: d.delivery_time ?? '',
    retry_count: d.retry_count,
    error_details: d.error_details ?? '',
    subscriber_id: d.subscriber_id,
    report_type: enumOr(d.report_type, reportTypes, 'REPORT_DATA_TYPE_UNSPECIFIED'),
    replay_count: d.replay_count,
    updated_at: d.updated_at,
  };
}

export function reportMessageOf(u: ReportUpdate): ReportMessageMsg {
  if (u.kind === 'delivery') return { event_id: u.eventId, timestamp: u.timestamp, delivery: deliveryMsgOf(u.change) };
  const r = u.report;
  return {
    event_id: u.eventId,
    timestamp: u.timestamp,
    report: {
      report_id: r.reportId,
      report_type: enumOr(r.reportType, reportTypes, 'REPORT_DATA_TYPE_UNSPECIFIED'),
      portfolio_id: r.portfolioId ?? '',
      report_period: r.reportPeriod ?? '',
      file_path: r.filePath ?? '',
      file_size_bytes: r.fileSizeBytes ?? 0,
      delivery_ids: u.deliveryIds,
    },
  };
}
