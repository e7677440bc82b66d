// API keys with roles: generated once, stored as SHA-256, resolved to a Caller; the bootstrap admin key stays valid.
import crypto from 'node:crypto';
import type { DistributionStore } from '../db/distribution';
import type { ApiKeyRecord, ApiRole, Caller } from './types';

export function hashApiKey(key: string): string {
  return crypto.createHash('sha256').update(key, 'utf8').digest('hex');
}

/** `rdk_` + 32 random bytes; the key id is public (for listing and revoking), the key is shown once. */
export function generateApiKey(): { key: string; keyId: string; keyHash: string } {
  const key = `rdk_${crypto.randomBytes(32).toString('base64url')}`;
  return { key, keyId: `key_${crypto.randomBytes(6).toString('hex')}`, keyHash: hashApiKey(key) };
}

export async function createApiKey(
  store: Pick<DistributionStore, 'createApiKey'>,
  input: { role: ApiRole; subscriberId?: string | null; label?: string | null },
): Promise<{ key: string; record: ApiKeyRecord }> {
  if (input.role === 'subscriber' && !input.subscriberId) throw new Error('a subscriber key needs --subscriber ID: it sees only that subscriber');
  if (input.role !== 'subscriber' && input.subscriberId) throw new Error(`an ${input.role} key is not tied to a subscriber; drop --subscriber`);
  const { key, keyId, keyHash } = generateApiKey();
  const record = await store.createApiKey({ keyId, keyHash, role: input.role, subscriberId: input.subscriberId ?? null, label: input.label ?? null });
  return { key, record };
}

function sameSecret(a: string, b: string): boolean {
  return crypto.timingSafeEqual(Buffer.from(hashApiKey(a), 'hex'), Buffer.from(hashApiKey(b), 'hex'));
}

/** The caller a bearer token stands for, or null for an unknown or revoked key. Stored keys are looked up by hash. */
export async function resolveCaller(store: Pick<DistributionStore, 'findApiKeyByHash'>, bootstrapAdminKey: string | undefined, token: string): Promise<Caller | null> {
  if (bootstrapAdminKey && sameSecret(token, bootstrapAdminKey)) return { role: 'admin', subscriberId: null, keyId: 'bootstrap-admin' };
  const found = await store.findApiKeyByHash(hashApiKey(token));
  return found ? { role: found.role, subscriberId: found.subscriberId, keyId: found.keyId } : null;
}

/** Operators and the CLI act on every subscriber's behalf. */
export const cliCaller: Caller = { role: 'admin', subscriberId: null, keyId: 'cli' };

/** Whether the caller may see or change things owned by `subscriberId`: staff all, a subscriber its own, read-only none. */
export function mayAccess(caller: Caller, subscriberId: string): boolean {
  if (caller.role === 'admin' || caller.role === 'operator') return true;
  return caller.role === 'subscriber' && caller.subscriberId === subscriberId;
}
