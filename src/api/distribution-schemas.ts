// TypeBox schemas of the distribution routes: a run with its files, counts and deliveries; what a start answers.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { CALENDAR_DATE_PATTERN } from './date-pattern';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const RunFileView = Type.Object({
  name: Type.String(),
  type: Type.String({ description: 'full, delta, cancellation, invalid or manifest' }),
  dataset: Type.String(),
  rows: Type.Integer(),
  bytes: Type.Integer(),
  sha256: Type.String(),
  url: Type.String({ description: 'download path of this file' }),
});

export const RunDeliveryView = Type.Object({
  deliveryId: Type.String(),
  subscriptionId: Nullable(Type.String()),
  subscriberId: Nullable(Type.String()),
  channel: Nullable(Type.String()),
  status: Type.String({ description: 'pending, sending, retrying, delivered, failed, cancelled; unknown when the delivery is gone' }),
  retryCount: Type.Integer(),
  deliveryTime: Nullable(Type.String({ format: 'date-time' })),
  errorDetails: Nullable(Type.String()),
});

const Counts = Type.Object({ full: Nullable(Type.Integer()), delta: Nullable(Type.Integer()), cancellation: Nullable(Type.Integer()), invalid: Nullable(Type.Integer()) });

export const RunSummaryView = Type.Object({
  runId: Type.String({ description: '20250621, or 20250621T143015 for an intraday delta' }),
  businessDate: Type.String({ format: 'date' }),
  kind: Type.String(),
  suffix: Nullable(Type.String()),
  status: Type.String(),
  trigger: Type.String(),
  workflowId: Type.String(),
  workflowRunId: Nullable(Type.String()),
  submissionId: Type.String(),
  watermark: Type.Object({ from: Nullable(Type.String()), to: Type.String() }),
  watermarkCommitted: Type.Boolean(),
  generatedAt: Type.String(),
  attempts: Type.Integer(),
  startedAt: Type.String({ format: 'date-time' }),
  finishedAt: Nullable(Type.String({ format: 'date-time' })),
  errorMessage: Nullable(Type.String()),
  counts: Counts,
  files: Type.Array(RunFileView),
  deliveryCount: Type.Integer(),
});

export const RunDetailView = Type.Intersect([
  RunSummaryView,
  Type.Object({
    deliveries: Type.Array(RunDeliveryView),
    workflow: Nullable(Type.Object({ status: Type.String(), workflowRunId: Type.String(), progress: Nullable(Type.Record(Type.String(), Type.Unknown())) })),
  }),
]);

export const RunStarted = Type.Object({
  runId: Type.String(),
  workflowId: Type.String(),
  workflowRunId: Type.String(),
  businessDate: Type.String({ format: 'date' }),
  kind: Type.String(),
  status: Type.Literal('started'),
  url: Type.String({ description: 'where to follow the run' }),
});

/** 409: the error body plus the running run, so a caller can follow it instead. */
export const RunConflict = Type.Object({
  error: Type.Object({ code: Type.Literal('DISTRIBUTION_RUNNING'), message: Type.String(), runId: Type.String(), workflowId: Type.String(), workflowRunId: Type.String() }),
});

export type RunSummaryT = Static<typeof RunSummaryView>;
export type RunDeliveryT = Static<typeof RunDeliveryView>;

const CalendarDate = Type.String({ pattern: CALENDAR_DATE_PATTERN, description: 'yyyy-MM-dd or yyyyMMdd, a day that exists' });

export const RetryFailedBody = Type.Object({
  date: Type.Optional(CalendarDate),
  since: Type.Optional(CalendarDate),
}, { additionalProperties: false });

export const RetryFailedResponse = Type.Object({
  runsChecked: Type.Integer(),
  runsRestarted: Type.Array(Type.String(), { description: 'run ids started again' }),
  deliveriesFailed: Type.Integer({ description: 'failed deliveries found in the other runs' }),
  deliveriesReplayed: Type.Array(Type.String(), { description: 'delivery ids replayed (the rest were running again already)' }),
  businessDate: Type.Union([Type.String(), Type.Null()]),
  since: Type.Union([Type.String(), Type.Null()]),
});
