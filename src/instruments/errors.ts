// Why an instrument source could not be used: one of our failure types, a code, and a message saying what to do.
import type { FailureType } from '../errors';

export type SourceFailureType = Extract<FailureType, 'SourceForbidden' | 'SourceNotFound' | 'CorruptSource' | 'InvalidFile'>;

/** A problem with the source itself: retrying the same request or file cannot fix it. */
export class SourceError extends Error {
  constructor(
    message: string,
    readonly type: SourceFailureType,
    readonly code: string,
  ) {
    super(message);
    this.name = 'SourceError';
  }
}

/** zlib reports a cut or damaged gzip stream with Z_* codes (Z_BUF_ERROR: "unexpected end of file"). */
export function isZlibError(err: unknown): err is Error & { code: string } {
  const code: unknown = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('Z_');
}
