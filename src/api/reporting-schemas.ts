// TypeBox schemas of /api/v1/reporting (requests and responses), in the original service's snake_case.
import { Type } from '@sinclair/typebox';
import { channelTypes } from '../channels/types';
import { deliveryStatuses, reportTypes, subscriptionTypes } from '../reporting/types';
import { triggerEvents } from '../reporting/trigger-events';

const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

export const ReportTypeT = literals(reportTypes);
export const ChannelTypeT = literals(channelTypes);
const Id = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._:@-]+$' });
const Time = Type.String({ format: 'date-time' });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

const ChannelEntry = Type.Union([
  ChannelTypeT,
  Type.Object({ channel_type: ChannelTypeT, config: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }, { additionalProperties: false }),
]);

const FiltersBody = Type.Union([
  Type.Object({
    portfolio_ids: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 1000 })),
    metadata: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 500 }))),
  }, { additionalProperties: false }),
  Type.Null(),
]);

export const SubscribeBody = Type.Object({
  subscription_id: Type.Optional(Id),
  subscriber_id: Id,
  subscriber_type: Type.Optional(literals(subscriptionTypes)),
  report_types: Type.Array(ReportTypeT, { minItems: 1, maxItems: reportTypes.length }),
  delivery_preferences: Type.Object({
    channels: Type.Array(ChannelEntry, { minItems: 1, maxItems: 10, description: 'a channel type alone (its defaults), or {channel_type, config}; see docs/channels.md for each config' }),
    schedule: Type.Optional(Type.Union([Type.String({ maxLength: 100, description: 'SCHEDULED: five-field cron in UTC; a Temporal Schedule sends what the subscription collected then' }), Type.Null()])),
    format_preferences: Type.Optional(Type.Array(Type.String({ maxLength: 50 }), { maxItems: 20, description: 'the first of CSV, JSON, XLSX listed is the format CSV report files are sent in' })),
    notification_settings: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'on_failure: who hears of a failed delivery: "operators" (default), "subscriber", and/or other dashboard audience names; [] for nobody' })),
    trigger_events: Type.Optional(Type.Array(literals(triggerEvents), { maxItems: triggerEvents.length, description: 'TRIGGERED: the events that send what the subscription holds' })),
  }, { additionalProperties: false }),
  filters: Type.Optional(FiltersBody),
}, { additionalProperties: false });

const NullableTime = Type.Union([Time, Type.Null()]);

export const ChannelHealthView = Type.Object({
  state: literals(['healthy', 'unhealthy', 'disabled'] as const),
  status: literals(['healthy', 'unhealthy'] as const),
  paused: Type.Boolean({ description: 'true while unhealthy: its deliveries wait (status waiting) without spending attempts' }),
  paused_at: NullableTime,
  consecutive_failures: Type.Integer({ description: 'failed attempts in a row against the destination; a success resets it' }),
  last_failure_at: NullableTime,
  last_error: Nullable(Type.String()),
  last_success_at: NullableTime,
  next_probe_at: NullableTime,
  probe_attempts: Type.Integer({ description: 'failed probes since the channel was paused' }),
  last_probe_at: NullableTime,
  last_probe_error: Nullable(Type.String()),
});

export const ChannelView = Type.Object({
  channel_id: Type.String(),
  channel_type: Type.String(),
  enabled: Type.Boolean(),
  disabled_reason: Nullable(Type.String()),
  disabled_at: NullableTime,
  config: Type.Unknown({ description: 'the channel config with every secret shown as "***"' }),
  health: ChannelHealthView,
});

export const SubscriptionView = Type.Object({
  subscription_id: Type.String(),
  subscriber_id: Type.String(),
  subscriber_type: Type.String(),
  report_types: Type.Array(Type.String()),
  delivery_preferences: Type.Object({
    channels: Type.Array(ChannelView),
    schedule: Nullable(Type.String()),
    format_preferences: Type.Array(Type.String()),
    notification_settings: Type.Record(Type.String(), Type.Unknown()),
    trigger_events: Type.Optional(Type.Array(Type.String())),
  }),
  filters: Type.Union([Type.Object({ portfolio_ids: Type.Optional(Type.Array(Type.String())), metadata: Type.Optional(Type.Record(Type.String(), Type.String())) }), Type.Null()]),
  status: Type.String(),
  version: Type.Integer({ description: 'adds one with every change; send it back as If-Match or expected_version' }),
  created_at: Time,
  updated_at: Time,
});

export const SubscribeResponse = Type.Object({
  subscription: SubscriptionView,
  generated_secrets: Type.Array(Type.Object({ channel_id: Type.String(), secret: Type.String() }), { description: 'webhook signing secrets refdata generated; shown only here' }),
});


/** PATCH of a subscription: an action, or new content (fields given replace the stored ones), not both. */
export const PatchSubscriptionBody = Type.Object({
  action: Type.Optional(literals(['pause', 'resume', 'cancel'] as const)),
  subscriber_type: Type.Optional(literals(subscriptionTypes)),
  report_types: Type.Optional(Type.Array(ReportTypeT, { minItems: 1, maxItems: reportTypes.length })),
  delivery_preferences: Type.Optional(Type.Object({
    channels: Type.Optional(Type.Array(
      Type.Union([ChannelEntry, Type.Object({ channel_id: Id }, { additionalProperties: false })]),
      { minItems: 1, maxItems: 10, description: 'the whole new set: {channel_id} keeps a channel as it is, a type or {channel_type, config} adds one; channels not listed are removed' },
    )),
    schedule: Type.Optional(Type.Union([Type.String({ maxLength: 100, description: 'SCHEDULED: five-field cron in UTC; a Temporal Schedule sends what the subscription collected then' }), Type.Null()])),
    format_preferences: Type.Optional(Type.Array(Type.String({ maxLength: 50 }), { maxItems: 20, description: 'the first of CSV, JSON, XLSX listed is the format CSV report files are sent in' })),
    notification_settings: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'on_failure: who hears of a failed delivery: "operators" (default), "subscriber", and/or other dashboard audience names; [] for nobody' })),
    trigger_events: Type.Optional(Type.Array(literals(triggerEvents), { maxItems: triggerEvents.length, description: 'TRIGGERED: the events that send what the subscription holds' })),
  }, { additionalProperties: false, minProperties: 1 })),
  filters: Type.Optional(FiltersBody),
  expected_version: Type.Optional(Type.Integer({ minimum: 1, description: 'apply only at this version, else 409 (the same as an If-Match header)' })),
}, { additionalProperties: false, minProperties: 1 });

export const PatchSubscriptionResponse = Type.Intersect([
  SubscriptionView,
  Type.Object({ generated_secrets: Type.Optional(Type.Array(Type.Object({ channel_id: Type.String(), secret: Type.String() }), { description: 'secrets of new webhook channels; shown only here' })) }),
]);

const Metadata = Type.Record(Type.String(), Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean(), Type.Null()]));

export const DeliverBody = Type.Object({
  report: Type.Object({
    report_id: Id,
    report_type: ReportTypeT,
    title: Type.Optional(Type.String({ maxLength: 500 })),
    summary: Type.Optional(Type.String({ maxLength: 4000 })),
    portfolio_id: Type.Optional(Type.String({ maxLength: 100 })),
    report_period: Type.Optional(Type.String({ maxLength: 50 })),
    file_path: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, description: 'absolute path inside REFDATA_REPORT_ROOTS' })),
    content: Type.Optional(Type.Object({
      content_type: literals(['text/plain', 'text/html', 'application/json'] as const),
      text: Type.String({ maxLength: 256 * 1024 }),
    }, { additionalProperties: false })),
    metadata: Type.Optional(Metadata),
    link: Type.Optional(Type.String({ pattern: '^https?://', maxLength: 2000 })),
  }, { additionalProperties: false }),
  priority: Type.Optional(Type.Integer({ minimum: 1, maximum: 5, description: '1 = urgent (own task queue) … 5 = bulk; default 3' })),
  target_subscribers: Type.Optional(Type.Array(Id, { maxItems: 10_000 })),
  channels: Type.Optional(Type.Array(ChannelTypeT, { maxItems: 6 })),
  routing_key: Type.Optional(Type.String({ maxLength: 200 })),
  source_service: Type.Optional(Type.String({ maxLength: 100 })),
  encryption_required: Type.Optional(Type.Boolean()),
  retention_days: Type.Optional(Type.Integer({ minimum: 0, maximum: 36500 })),
}, { additionalProperties: false });

export const DeliverResponse = Type.Object({
  report_id: Type.String(),
  deliveries: Type.Array(Type.Object({
    delivery_id: Type.String(),
    subscription_id: Type.String(),
    subscriber_id: Type.String(),
    channel: Type.String(),
    channel_id: Type.String(),
    workflow_id: Type.String(),
    new: Type.Boolean({ description: 'false when the same report had already been handed to this subscription and channel' }),
    held_for: Nullable(Type.String({ description: 'SCHEDULED, ON_DEMAND or TRIGGERED: kept until the subscription\'s schedule, deliver-now or trigger event; null: started now' })),
  })),
  skipped: Type.Array(Type.Object({ subscription_id: Type.String(), channel_id: Type.String(), reason: Type.String() })),
});

export const DeliveryStatusView = Type.Object({
  delivery_id: Type.String(),
  subscription_id: Type.String(),
  subscriber_id: Type.String(),
  report_id: Type.String(),
  report_type: Type.String(),
  channel: Type.String(),
  channel_id: Type.String(),
  status: literals(deliveryStatuses),
  delivery_time: Nullable(Time),
  retry_count: Type.Integer(),
  error_details: Nullable(Type.String()),
  priority: Type.Integer(),
  replay_count: Type.Integer(),
  latency_ms: Type.Union([Type.Integer(), Type.Null()]),
  workflow_id: Type.String(),
  run_id: Nullable(Type.String()),
  created_at: Time,
  updated_at: Time,
  held_for: Type.Optional(Nullable(Type.String({ description: 'the subscription type that held it until a release' }))),
  released_at: Type.Optional(Nullable(Time)),
});

export const DeliverNowResponse = Type.Object({
  subscription_id: Type.String(),
  released: Type.Array(DeliveryStatusView, { description: 'the held deliveries this call started (none: nothing was held)' }),
});

export const ReplayBody = Type.Union([Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }), Type.Null()]);

export const ReplayResponse = Type.Object({
  delivery_id: Type.String(),
  workflow_id: Type.String(),
  run_id: Type.String(),
  replay_count: Type.Integer(),
  replayed_run_id: Nullable(Type.String()),
});

export const BulkReplayBody = Type.Object({
  status: Type.Optional(literals(['failed', 'cancelled', 'delivered'] as const)),
  since: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'changed since: a duration back (30m, 24h, 7d) or an ISO time; default 24h' })),
  channel: Type.Optional(ChannelTypeT),
  subscriber_id: Type.Optional(Id),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'at most this many, oldest change first; default 1000' })),
  dry_run: Type.Optional(Type.Boolean({ description: 'list what would be replayed; change nothing' })),
  reason: Type.Optional(Type.String({ maxLength: 500, description: 'shown in each run\'s summary in the Temporal UI' })),
}, { additionalProperties: false });

export const BulkReplayResponse = Type.Object({
  dry_run: Type.Boolean(),
  since: Time,
  matched: Type.Array(DeliveryStatusView),
  replayed: Type.Array(ReplayResponse),
  refused: Type.Array(Type.Object({ delivery_id: Type.String(), reason: Type.String() }), { description: 'still running, or started again meanwhile' }),
});

const Stats = Type.Object({ attempted: Type.Integer(), successful: Type.Integer(), failed: Type.Integer(), avg_delivery_time_ms: Type.Union([Type.Number(), Type.Null()]) });

const ChannelDetail = Type.Intersect([ChannelView, Type.Object({ subscription_id: Nullable(Type.String()), subscriber_id: Nullable(Type.String()) })]);

export const ChannelStatusResponse = Type.Object({
  channel_types: Type.Array(Type.Object({
    channel_type: Type.String(), channels: Type.Integer(), enabled: Type.Integer(),
    unhealthy: Type.Integer({ description: 'channels of this type paused as unhealthy' }), last_24h: Stats,
  })),
  channels: Type.Array(ChannelDetail),
});

export const ChannelResponse = ChannelDetail;
export const ResumeChannelResponse = Type.Intersect([ChannelDetail, Type.Object({ woken: Type.Integer({ description: 'waiting deliveries told to send now' }) })]);

export const PatchChannelBody = Type.Object({
  config: Type.Optional(Type.Record(Type.String(), Type.Unknown(), {
    description: 'fields merged over the stored config (see docs/channels.md for each type); null removes an optional field; "***" keeps a stored secret',
  })),
  enabled: Type.Optional(Type.Boolean({ description: 'true re-enables a channel a GONE answer switched off; false switches it off' })),
}, { additionalProperties: false, minProperties: 1 });

const Counts = {
  reports: Type.Integer({ description: 'distinct report ids: the distributions these deliveries belong to' }),
  deliveries: Type.Integer(),
  delivered: Type.Integer(),
  failed: Type.Integer(),
  cancelled: Type.Integer(),
  in_progress: Type.Integer({ description: 'pending, sending, retrying or waiting' }),
  retries: Type.Integer({ description: 'attempts after the first (of each delivery\'s last run)' }),
  replays: Type.Integer(),
  avg_latency_ms: Type.Union([Type.Number(), Type.Null()], { description: 'accepted (or replay requested) → delivered, over delivered ones' }),
  max_latency_ms: Type.Union([Type.Integer(), Type.Null()]),
};
const Attempts = Type.Union([Stats, Type.Null()], { description: 'attempt counters of the hourly buckets that start in the range; null for a subscriber key' });

export const StatsQuery = Type.Object({
  from: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'ISO date (midnight UTC) or time with zone; default: a day before `to`' })),
  to: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'exclusive; default: now' })),
}, { additionalProperties: false });

export const StatsResponse = Type.Object({
  from: Time,
  to: Time,
  totals: Type.Object(Counts),
  by_report_type: Type.Array(Type.Object({ report_type: Type.String(), ...Counts, attempts: Attempts })),
  by_channel: Type.Array(Type.Object({ channel: Type.String(), ...Counts, attempts: Attempts })),
  by_subscriber: Type.Array(Type.Object({ subscriber_id: Type.String(), ...Counts })),
});
