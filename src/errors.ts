// The closed list of failure types that workflows, activities and error reports share.

export const failureTypes = [
  'InvalidFile',
  'SchemaMismatch',
  'ReservedTable',
  'UnstableFile',
  'UnsafePath',
  'Cancelled',
  'Internal',
  'SourceForbidden',
  'SourceNotFound',
  'CorruptSource',
  'GuardTripped',
  // An instrument sync that held the one-sync lock past its time limit was ended.
  'TimeLimitExceeded',
  // Deliveries: the run's final failure, and why an attempt could not even be made.
  'DeliveryFailed',
  'InvalidSubscription',
  'SubscriptionCancelled',
  'ChannelDisabled',
] as const;

export type FailureType = (typeof failureTypes)[number];

/** Where in a file a problem is, when known. */
export interface FailureLocation {
  row?: number;
  column?: string;
}

/** Details attached to a non-retryable ApplicationFailure and written to `<name>.error.json`. */
export interface FailureDetails extends FailureLocation {
  code?: string;
  hint?: string;
}

export function isFailureType(v: unknown): v is FailureType {
  return typeof v === 'string' && (failureTypes as readonly string[]).includes(v);
}
