// How a channel says a send failed, and whether trying again can help: one error class, one closed list of codes.

export const channelErrorCodes = [
  'HTTP_4XX', // a 4xx other than those below: the request is wrong and will stay wrong
  'HTTP_5XX', // the peer failed; it may recover
  'REDIRECT', // 3xx: never followed, since following would bypass the destination check
  'RATE_LIMITED', // 429 or a peer's own throttling answer
  'GONE', // 410 (or a push service's 404): the destination no longer exists; disable it
  'AUTH_FAILED', // 401/403, SMTP 535, SSH authentication
  'INVALID_ADDRESS', // a recipient the peer refuses (SMTP 550/553)
  'TIMEOUT', // the deadline passed, or 408
  'CONNECTION', // refused, reset, unreachable, DNS failure
  'TLS', // certificate not trusted or for another name: an operator has to act
  'HOST_KEY_MISMATCH', // SSH host key differs from the pinned fingerprint
  'DESTINATION_REFUSED', // our own policy: scheme, or a private address not allowed
  'RECEIVER_ABORTED', // the receiver answered `webhook-delivery: abort-message`
  'REMOTE_REJECTED', // the peer refused for another lasting reason (SMTP 5xx, SFTP permission denied)
  'REMOTE_TEMPORARY', // the peer asked us to come back later (SMTP 4xx)
  'FILE_MISSING', // an attachment is gone or differs from its recorded size
  'INVALID_MESSAGE', // the delivery itself cannot be sent as built (unsafe file name, unusable content type)
  'TOO_LARGE', // over a size limit that a retry will not change
  'INVALID_CONFIG', // the channel config does not pass its schema
  'CANCELLED', // the caller aborted this attempt; says nothing about the destination
] as const;

export type ChannelErrorCode = (typeof channelErrorCodes)[number];

export interface ChannelErrorOptions {
  permanent: boolean;
  /** The destination should be switched off (410, expired push subscription), not just this delivery failed. */
  disable?: boolean;
  /** The peer said when to come back (Retry-After); the caller uses it as the next retry delay. */
  retryAfterMs?: number;
  /** HTTP status or SMTP reply code, when there was one. */
  status?: number;
  cause?: unknown;
}

export class ChannelError extends Error {
  override readonly name = 'ChannelError';
  readonly code: ChannelErrorCode;
  readonly permanent: boolean;
  readonly disable: boolean;
  readonly retryAfterMs?: number;
  readonly status?: number;

  constructor(code: ChannelErrorCode, message: string, opts: ChannelErrorOptions) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.permanent = opts.permanent;
    this.disable = opts.disable ?? false;
    this.retryAfterMs = opts.retryAfterMs;
    this.status = opts.status;
  }

  /** Shape for `delivery_history.error_details` and Temporal failure details: plain data, no stack, no cause. */
  toJSON(): { code: ChannelErrorCode; message: string; permanent: boolean; disable: boolean; retryAfterMs?: number; status?: number } {
    return {
      code: this.code,
      message: this.message,
      permanent: this.permanent,
      disable: this.disable,
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
      ...(this.status === undefined ? {} : { status: this.status }),
    };
  }
}

export function isChannelError(err: unknown): err is ChannelError {
  return err instanceof ChannelError;
}

/** Retry-After as delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: Date = new Date()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === '') return undefined;
  const trimmed = raw.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

/**
 * `said` is what the peer wrote in its answer, quoted in the message for the operator.
 * The status rules shared by every HTTP channel (FACTS.md, Webhooks): 4xx other than 408/429 permanent; 410 permanent
 * and disable; 401/403 are authentication; 429 and 5xx retryable honouring Retry-After. Returns undefined for 2xx.
 */
export function classifyHttpStatus(
  status: number,
  retryAfter: string | string[] | undefined,
  what: string,
  said = '',
): ChannelError | undefined {
  if (status >= 200 && status < 300) return undefined;
  const retryAfterMs = parseRetryAfter(retryAfter);
  const at = `${what}: peer answered HTTP ${status}${said ? ` (${said})` : ''}`;
  if (status >= 300 && status < 400) {
    return new ChannelError('REDIRECT', `${at}; redirects are not followed, configure the final URL`, { permanent: true, status });
  }
  if (status === 408) return new ChannelError('TIMEOUT', at, { permanent: false, status, retryAfterMs });
  if (status === 429) return new ChannelError('RATE_LIMITED', at, { permanent: false, status, retryAfterMs });
  if (status === 410) return new ChannelError('GONE', `${at}; the destination is gone, disable it`, { permanent: true, disable: true, status });
  if (status === 401 || status === 403) return new ChannelError('AUTH_FAILED', `${at}; check the credentials or secret`, { permanent: true, status });
  if (status === 413) return new ChannelError('TOO_LARGE', at, { permanent: true, status });
  if (status >= 400 && status < 500) return new ChannelError('HTTP_4XX', at, { permanent: true, status });
  return new ChannelError('HTTP_5XX', at, { permanent: false, status, retryAfterMs });
}

// Node's and undici's error codes for "the peer is not there right now".
const connectionCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'ENOTFOUND',
  'EAI_AGAIN', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ERR_SSL_WRONG_VERSION_NUMBER',
]);
const timeoutCodes = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
// Certificate problems do not heal by retrying; someone has to fix the certificate or trust its CA.
const tlsCodes = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_NOT_YET_VALID', 'CERT_UNTRUSTED',
]);

/** The `code` of an error or of any error in its cause chain (undici wraps socket errors). */
export function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as Error & { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Transport failures (sockets, DNS, TLS) that every network channel shares; undefined when the error is something else. */
export function classifyTransportError(err: unknown, what: string): ChannelError | undefined {
  if (err instanceof ChannelError) return err;
  const code = errorCode(err);
  return code === undefined ? undefined : classifyErrorCode(code, err, what);
}

/** The same rules for a code a library moved elsewhere (nodemailer keeps the socket's code in `originalCode`). */
export function classifyErrorCode(code: string, err: unknown, what: string): ChannelError | undefined {
  const message = `${what}: ${errorMessage(err)} (${code})`;
  if (tlsCodes.has(code)) return new ChannelError('TLS', `${message}; fix the certificate or trust its CA`, { permanent: true, cause: err });
  if (timeoutCodes.has(code)) return new ChannelError('TIMEOUT', message, { permanent: false, cause: err });
  if (connectionCodes.has(code)) return new ChannelError('CONNECTION', message, { permanent: false, cause: err });
  return undefined;
}
