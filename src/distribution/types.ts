// The distribution's contracts with its neighbours: the delivery service it hands files to, and its settings.
import type { DistributionKind } from './file-names';

export type DeliveryMetadataValue = string | number | boolean | null;

/** One generated file as a delivery carries it (a path on the worker's machine, never its bytes). */
export interface DeliveryFile {
  path: string;
  fileName: string;
  bytes: number;
  sha256: string;
}

export interface DeliveryRequest {
  /** The run id (`20250621`, `20250621T143015`): with the subscription and channel, the deliveries' idempotency key. */
  reportId: string;
  reportType: 'REFERENCE_DATA';
  files: DeliveryFile[];
  /** yyyy-MM-dd */
  businessDate: string;
  metadata: Record<string, DeliveryMetadataValue>;
}

/**
 * The delivery service as the distribution sees it (DESIGN.md flow 4): one delivery per active REFERENCE_DATA
 * subscription × channel, each run by the `delivery` workflow. Implementations must be idempotent: the same request
 * twice returns the same delivery ids and starts nothing new.
 */
export interface DeliveryStarter {
  startDeliveries(request: DeliveryRequest): Promise<string[]>;
  /** Starts a new run of each failed delivery (same id); returns the ids it restarted. */
  replayDeliveries(deliveryIds: string[]): Promise<string[]>;
}

/** Settings of the distribution (src/config.ts parses them from the environment). */
export interface DistributionConfig {
  /** Root of the files; each business date gets `<dir>/<YYYYMMDD>/`. */
  dir: string;
  /** Root of the backup copies, laid out the same way. */
  backupDir: string;
  /** Backup folders older than this many days are removed after a run; 0 keeps them all. */
  backupRetentionDays: number;
  schedule: { cron: string; timeZone: string; catchupWindowMs: number };
  /** The nightly run's business date is its scheduled local date minus this many days. */
  businessDateLagDays: number;
  /** Intraday deltas as records change (absent: off, as before the setting existed). */
  intraday?: IntradayConfig;
}

/** REFDATA_INTRADAY_DELTAS and REFDATA_INTRADAY_DEBOUNCE_SECONDS. */
export interface IntradayConfig {
  enabled: boolean;
  /** Requests within this long of the first collapse into one run. */
  debounceMs: number;
}

/** What the API and the CLI start; the workflow id and file names follow from it. */
export interface DistributionRequest {
  kind: DistributionKind;
  /** yyyy-MM-dd; for a delta, the day it is taken on. */
  businessDate: string;
  /** HHmmss for an intraday delta; none for the nightly set. */
  suffix: string | null;
}
