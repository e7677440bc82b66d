// Open streams per API key (WebSocket and gRPC): one key must not hold every socket of the server. Keys are counted by
// a hash, so the table holds no secret.
import { createHash } from 'node:crypto';

export interface StreamLimiter {
  readonly maxPerKey: number;
  /** A slot for one more stream of `key`, released by the function returned; null when the key holds its maximum. */
  acquire(key: string): (() => void) | null;
  /** Streams `key` holds open now. */
  open(key: string): number;
}

const ownerOf = (key: string) => createHash('sha256').update(key).digest('hex');

export function createStreamLimiter(maxPerKey: number): StreamLimiter {
  const open = new Map<string, number>();
  return {
    maxPerKey,
    acquire(key) {
      const owner = ownerOf(key);
      const n = open.get(owner) ?? 0;
      if (n >= maxPerKey) return null;
      open.set(owner, n + 1);
      let released = false;
      return () => {
        // Close handlers can run twice (error then close): a slot is given back once.
        if (released) return;
        released = true;
        const left = (open.get(owner) ?? 1) - 1;
        if (left <= 0) open.delete(owner);
        else open.set(owner, left);
      };
    },
    open: (key) => open.get(ownerOf(key)) ?? 0,
  };
}
