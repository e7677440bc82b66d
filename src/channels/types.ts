// The one contract every delivery channel implements: what a delivery carries, what a send gets, what it returns.

export const channelTypes = [
  'API_WEBHOOK',
  'SFTP',
  'EMAIL',
  'SLACK_INTEGRATION',
  'DASHBOARD_NOTIFICATION',
  'MOBILE_PUSH',
] as const;

export type ChannelType = (typeof channelTypes)[number];

/** A file handed to a channel. Channels stream it from `path`; none reads it whole into memory where the protocol allows. */
export interface DeliveryAttachment {
  /** Name the receiver sees, e.g. `20250621_full.csv`. No directory part. */
  fileName: string;
  /** Absolute path on this machine. Written atomically and never changed afterwards (DESIGN.md flow 3). */
  path: string;
  contentType: string;
  /** Size in bytes; checked against the file before sending, so a truncated file fails loudly instead of arriving short. */
  bytes: number;
  /** Lower-case hex SHA-256 of the file, passed on to receivers (webhook manifest, Slack, push) so they can check what they got. */
  sha256: string;
  /** Where a person can download the file, when the platform serves it; email uses it instead of attaching files over its size limit. */
  url?: string;
}

/** Small text sent in the message itself (e.g. an alert report), for channels that have a body. */
export interface InlineContent {
  contentType: 'text/plain' | 'text/html' | 'application/json';
  text: string;
}

export type MetadataValue = string | number | boolean | null;

/** Everything a channel needs to know about one delivery. Small: paths, never file contents. */
export interface DeliveryMessage {
  /** Stable across retries and replays: the webhook-id, the email Message-ID and the dashboard notification id. */
  deliveryId: string;
  /** ISO 8601 time the delivery was created; stable across retries, so a resent webhook body is byte-identical. */
  createdAt: string;
  reportId: string;
  /** GENERATED_REPORT, …, REFERENCE_DATA. Channels pass it on and never branch on it, so it stays a string here. */
  reportType: string;
  title: string;
  summary?: string;
  /** Portfolio, period, business date, …; shown to receivers as-is. */
  metadata: Record<string, MetadataValue>;
  attachments: DeliveryAttachment[];
  content?: InlineContent;
  /** A link to the report as a whole (e.g. the dashboard page), used by Slack, push and dashboard notifications. */
  link?: string;
}

/** Per-call settings the caller (the delivery activity) owns; never part of a subscriber's stored config. */
export interface ChannelContext {
  /** Cancellation (e.g. the activity was cancelled). An aborted send throws ChannelError `CANCELLED`. */
  signal: AbortSignal;
  /** Upper bound for the whole send (connect, upload, answer). Past it the send throws ChannelError `TIMEOUT`. */
  timeoutMs: number;
  /**
   * Operator setting: allow destinations on private, loopback and link-local addresses. Off by default so a
   * subscriber cannot aim a webhook at the firm's internal network (SSRF). It lives here, not in the channel
   * config, because subscribers write channel configs. Tests set it to reach peers on 127.0.0.1.
   */
  allowPrivateNetworks?: boolean;
  /** Extra PEM certificates to trust for TLS (a private CA; a test peer's self-signed certificate). Added to, not replacing, the system's. */
  trustedCa?: string[];
  /** Operator cap on what one email attaches (REFDATA_EMAIL_ATTACH_MAX_BYTES); the channel's own limit may be lower. */
  attachmentMaxBytes?: number;
  /** Attempt time, for signatures (`webhook-timestamp`). Defaults to the real clock. */
  now?: () => Date;
}

/** What a successful send reports; written to delivery_history by the caller. */
export interface SendResult {
  status: 'delivered';
  /** One line for operators: where it went and what the peer said. */
  detail: string;
  /** The peer's id for what it received, when it gives one (SMTP queue id, push message URL, remote path). */
  remoteId?: string;
  latencyMs: number;
}

/**
 * A channel. `send` delivers once or throws a ChannelError that says whether trying again can help; it never
 * retries by itself (Temporal's retry policy does, honouring `retryAfterMs`). Implementations must be safe to call
 * again with the same message after any failure: that is exactly what a retry does.
 */
export interface ChannelSender<Config = unknown> {
  readonly type: ChannelType;
  send(msg: DeliveryMessage, config: Config, ctx: ChannelContext): Promise<SendResult>;
}
