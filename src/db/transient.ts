// Tells a database fault that will pass (deadlock, lost connection, busy pool) from one the data caused, for both dialects.
//
// Activities act on the answer: a transient fault is rethrown as it is, so Temporal retries the activity with
// backoff (and a checkpointed activity resumes where it stopped); a data fault becomes a non-retryable failure,
// because the same rows would fail the same way on every attempt.
import { ApplicationFailure } from '@temporalio/common';
import type { FailureType } from '../errors';
import { DataError } from './types';

export type DbFaultKind = 'transient' | 'data' | 'other';

export interface DbFault {
  kind: DbFaultKind;
  /** Short, operator-facing: `deadlock`, `connection lost`, `value too long`, … */
  reason: string;
  /** SQLSTATE (PostgreSQL), error number (SQL Server) or Node/driver code, when there is one. */
  code: string | null;
}

/** PostgreSQL SQLSTATEs that a retry can get past. Classes 08 (connection) and 53 (resources) are matched whole. */
const PG_TRANSIENT: Record<string, string> = {
  '40001': 'serialization failure',
  '40P01': 'deadlock',
  '40003': 'statement completion unknown',
  '55P03': 'lock not available',
  '57014': 'statement cancelled or timed out',
  '57P01': 'server shut down the connection (admin shutdown)',
  '57P02': 'server crashed (crash shutdown)',
  '57P03': 'server not accepting connections yet',
  '57P05': 'idle session timeout',
  '58000': 'system error',
  '58030': 'I/O error',
};

/** SQL Server error numbers that a retry can get past (deadlock victim, lock timeout, failover, throttling). */
const MSSQL_TRANSIENT: Record<number, string> = {
  1205: 'deadlock',
  1222: 'lock request timeout',
  3960: 'snapshot update conflict',
  701: 'insufficient memory',
  8645: 'timeout waiting for memory',
  8651: 'low memory',
  233: 'connection lost',
  64: 'connection lost',
  10053: 'connection lost',
  10054: 'connection reset',
  10060: 'connection timed out',
  4060: 'database unavailable',
  40197: 'service error (failover)',
  40501: 'service busy',
  40613: 'database unavailable',
  49918: 'not enough resources',
  49919: 'too many operations',
  49920: 'too many operations',
  10928: 'resource limit reached',
  10929: 'resource limit reached',
  41301: 'transaction dependency failure',
  41302: 'write conflict',
  41305: 'repeatable read validation failure',
  41325: 'serializable validation failure',
  [-2]: 'timeout',
};

/** SQL Server error numbers caused by the values themselves. */
const MSSQL_DATA: Record<number, string> = {
  8152: 'value too long',
  2628: 'value too long',
  245: 'conversion failed',
  241: 'date conversion failed',
  242: 'date out of range',
  8114: 'conversion failed',
  8115: 'arithmetic overflow',
  220: 'arithmetic overflow',
  232: 'arithmetic overflow',
  248: 'conversion overflow',
  515: 'null in a non-null column',
  547: 'constraint violation',
  2601: 'duplicate key',
  2627: 'duplicate key',
  4815: 'bulk load: invalid column length',
  4816: 'bulk load: invalid column type',
  4817: 'bulk load: invalid length',
  4819: 'bulk load: invalid column value',
  1701: 'row too wide',
  1702: 'too many columns',
};

/** Node and driver codes for a connection that broke, was refused or timed out. */
const NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN',
  // mssql / tedious
  'ESOCKET', 'ECONNCLOSED', 'ETIMEOUT', 'ENOTOPEN',
]);

/** Messages the drivers use for a broken connection or a pool that could not hand one out in time. */
const TRANSIENT_MESSAGES: [RegExp, string][] = [
  [/Connection terminated/i, 'connection lost'],
  [/is not queryable/i, 'connection lost'],
  [/timeout exceeded when trying to connect/i, 'pool exhausted (no connection within the timeout)'],
  [/Failed to acquire a connection from the pool/i, 'pool exhausted (no connection within the timeout)'],
  [/Connection is closed|Connection lost|socket hang up/i, 'connection lost'],
  [/the database system is (starting up|shutting down|in recovery mode)/i, 'server restarting'],
];

interface ErrorShape {
  code?: unknown;
  number?: unknown;
  message?: unknown;
  name?: unknown;
  cause?: unknown;
  originalError?: unknown;
}

/** The error and what it wraps (`cause`, mssql's `originalError`), outermost first, at most a few deep. */
function chainOf(err: unknown): ErrorShape[] {
  const out: ErrorShape[] = [];
  let cur: unknown = err;
  while (cur && typeof cur === 'object' && out.length < 6 && !out.includes(cur as ErrorShape)) {
    const e = cur as ErrorShape;
    out.push(e);
    cur = e.cause ?? e.originalError;
  }
  return out;
}

function classifyOne(e: ErrorShape): DbFault | null {
  if (e instanceof DataError) return { kind: 'data', reason: e.code.startsWith('23') ? 'integrity constraint violated' : 'invalid value', code: e.code };
  const code = typeof e.code === 'string' ? e.code : null;
  if (code && /^[0-9A-Z]{5}$/.test(code) && /\d/.test(code)) {
    if (PG_TRANSIENT[code]) return { kind: 'transient', reason: PG_TRANSIENT[code], code };
    if (code.startsWith('08')) return { kind: 'transient', reason: 'connection exception', code };
    if (code.startsWith('53')) return { kind: 'transient', reason: 'server out of resources (connections, memory or disk)', code };
    if (code.startsWith('22')) return { kind: 'data', reason: 'invalid value', code };
    if (code.startsWith('23')) return { kind: 'data', reason: 'integrity constraint violated', code };
    if (code.startsWith('54')) return { kind: 'data', reason: 'the data exceeds a database limit', code };
  }
  const number = typeof e.number === 'number' ? e.number : null;
  if (number !== null) {
    if (MSSQL_TRANSIENT[number]) return { kind: 'transient', reason: MSSQL_TRANSIENT[number], code: String(number) };
    if (MSSQL_DATA[number]) return { kind: 'data', reason: MSSQL_DATA[number], code: String(number) };
  }
  if (code && NETWORK_CODES.has(code)) return { kind: 'transient', reason: 'connection lost or refused', code };
  if (e.name === 'TimeoutError') return { kind: 'transient', reason: 'pool exhausted (no connection within the timeout)', code };
  const message = typeof e.message === 'string' ? e.message : '';
  for (const [pattern, reason] of TRANSIENT_MESSAGES) if (pattern.test(message)) return { kind: 'transient', reason, code };
  return null;
}

/** What kind of database fault `err` is; `other` for anything we cannot tell (Temporal's retry policy decides). */
export function classifyDbError(err: unknown): DbFault {
  for (const e of chainOf(err)) {
    const found = classifyOne(e);
    if (found) return found;
  }
  return { kind: 'other', reason: 'not a recognised database fault', code: null };
}

export function isTransientDbError(err: unknown): boolean {
  return classifyDbError(err).kind === 'transient';
}

/**
 * What an activity should throw for `err`: a data fault becomes a non-retryable ApplicationFailure of `type`
 * (the same bad rows would fail every attempt); anything else is returned unchanged, so a transient fault is
 * retried with backoff. ApplicationFailures pass through untouched.
 */
export function failureForDbError(err: unknown, type: FailureType = 'InvalidFile'): unknown {
  if (err instanceof ApplicationFailure) return err;
  const fault = classifyDbError(err);
  if (fault.kind !== 'data') return err;
  const message = err instanceof Error ? err.message : String(err);
  const location = err instanceof DataError ? { line: err.line, column: err.column } : {};
  return ApplicationFailure.nonRetryable(`the database refused the file's data (${fault.reason}): ${message}`, type, { code: fault.code ?? 'DATA_ERROR', ...location });
}
