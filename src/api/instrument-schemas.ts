// TypeBox schemas of the instrument routes: the master's rows, a sync run's report, stats.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const Instrument = Type.Object({
  instrumentKey: Type.String(),
  segment: Nullable(Type.String()),
  exchange: Nullable(Type.String()),
  instrumentType: Nullable(Type.String()),
  name: Nullable(Type.String()),
  tradingSymbol: Nullable(Type.String()),
  isin: Nullable(Type.String()),
  expiry: Nullable(Type.String({ format: 'date' })),
  strikePrice: Nullable(Type.Number()),
  lotSize: Nullable(Type.Number()),
  tickSize: Nullable(Type.Number()),
  freezeQuantity: Nullable(Type.Number()),
  underlyingKey: Nullable(Type.String()),
  optionType: Nullable(Type.String()),
  weekly: Nullable(Type.Boolean()),
  isActive: Type.Boolean(),
  firstSeenAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  deactivatedAt: Nullable(Type.String({ format: 'date-time' })),
});

export const InstrumentDetail = Type.Intersect([Instrument, Type.Object({ sourceRecord: Type.Unknown({ description: 'the record as the broker sent it (keys sorted)' }) })]);

const Breakdown = Type.Object({
  activeBefore: Type.Integer(),
  activeAfter: Type.Integer(),
  added: Type.Integer(),
  updated: Type.Integer(),
  unchanged: Type.Integer(),
  reactivated: Type.Integer(),
  deactivated: Type.Integer(),
});

const Guard = Type.Object({
  activeBefore: Type.Integer(),
  wouldDeactivate: Type.Integer(),
  fno: Type.Integer(),
  equities: Type.Integer(),
  tripped: Type.Boolean(),
  bypassed: Type.Boolean(),
  reasons: Type.Array(Type.String()),
});

const count = Nullable(Type.Integer());

export const SyncReport = Type.Object({
  runId: Type.String(),
  workflowId: Type.String(),
  status: Type.Union(['running', 'staged', 'succeeded', 'failed', 'guard_tripped', 'cancelled', 'timed_out'].map((s) => Type.Literal(s))),
  trigger: Type.String(),
  forced: Type.Boolean(),
  source: Type.String(),
  format: Nullable(Type.String()),
  fileBytes: count,
  fileSha256: Nullable(Type.String()),
  records: Type.Integer(),
  invalid: Type.Integer(),
  duplicates: Type.Integer(),
  activeBefore: count,
  activeAfter: count,
  added: count,
  updated: count,
  unchanged: count,
  deactivated: count,
  reactivated: count,
  bySegment: Type.Record(Type.String(), Breakdown),
  byType: Type.Record(Type.String(), Breakdown),
  guard: Nullable(Guard),
  errorMessage: Nullable(Type.String()),
  startedAt: Type.String({ format: 'date-time' }),
  finishedAt: Nullable(Type.String({ format: 'date-time' })),
  durationMs: count,
});

export const SyncRunView = Type.Object({
  runId: Type.String(),
  workflowId: Type.String(),
  /** Temporal's status of the run (RUNNING, COMPLETED, FAILED, …); null when Temporal no longer knows the run. */
  workflowStatus: Nullable(Type.String()),
  progress: Nullable(Type.Record(Type.String(), Type.Unknown())),
  report: Nullable(SyncReport),
});

export const SyncStarted = Type.Object({ workflowId: Type.String(), runId: Type.String(), status: Type.Literal('started') });

/** 409: the error body plus the running run, so a caller can follow it instead. */
export const SyncConflict = Type.Object({
  error: Type.Object({ code: Type.Literal('SYNC_RUNNING'), message: Type.String(), workflowId: Type.String(), runId: Type.String() }),
});

const Counts = Type.Object({ active: Type.Integer(), inactive: Type.Integer() });
export const InstrumentStats = Type.Object({
  total: Type.Integer(),
  active: Type.Integer(),
  inactive: Type.Integer(),
  bySegment: Type.Record(Type.String(), Counts),
  byType: Type.Record(Type.String(), Counts),
  lastSync: Nullable(SyncReport),
});

export type InstrumentT = Static<typeof Instrument>;
