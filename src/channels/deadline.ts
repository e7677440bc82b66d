// One signal per send that fires on cancellation or when the send's time is up, and the error each of those means.
import { ChannelError } from './errors';
import type { ChannelContext } from './types';

export interface Deadline {
  /** Aborts on the caller's signal or after ctx.timeoutMs, whichever comes first. */
  signal: AbortSignal;
  /** The ChannelError for an aborted send: CANCELLED when the caller aborted, TIMEOUT otherwise. */
  abortError(what: string): ChannelError;
  /** Stops the timer (a finished send must not keep the process alive). */
  dispose(): void;
}

export function startDeadline(ctx: ChannelContext): Deadline {
  const controller = new AbortController();
  const onCallerAbort = (): void => controller.abort(ctx.signal.reason);
  // Our own timer rather than AbortSignal.timeout, so it can be cleared and never fires after the send.
  const timer = setTimeout(() => controller.abort(new Error('deadline')), ctx.timeoutMs);
  timer.unref();
  if (ctx.signal.aborted) onCallerAbort();
  else ctx.signal.addEventListener('abort', onCallerAbort, { once: true });
  return {
    signal: controller.signal,
    abortError(what) {
      return ctx.signal.aborted
        ? new ChannelError('CANCELLED', `${what}: cancelled by the caller`, { permanent: false })
        : new ChannelError('TIMEOUT', `${what}: no answer within ${ctx.timeoutMs} ms`, { permanent: false });
    },
    dispose() {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onCallerAbort);
    },
  };
}

/**
 * For libraries that take no AbortSignal (nodemailer, ssh2-sftp-client, web-push): settles with the deadline's error
 * as soon as it fires, after `teardown` has closed whatever the work holds open so it ends too.
 */
export async function raceDeadline<T>(work: Promise<T>, deadline: Deadline, what: string, teardown: () => void): Promise<T> {
  if (deadline.signal.aborted) {
    teardown();
    work.catch(() => undefined);
    throw deadline.abortError(what);
  }
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      teardown();
      reject(deadline.abortError(what));
    };
    deadline.signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    if (onAbort) deadline.signal.removeEventListener('abort', onAbort);
    // The loser of the race must not surface later as an unhandled rejection.
    work.catch(() => undefined);
  }
}
