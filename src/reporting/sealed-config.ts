// Channel secrets at rest: every secret leaf of a channel config is sealed with AES-256-GCM before it is stored.
import crypto from 'node:crypto';
import { z } from 'zod';
import { channelConfigSchemas, secretFields, type ChannelType } from '../channels';

const PREFIX = 'enc:v1:';

/** A 32-byte key and a short id of it, so a value sealed under another key fails with a clear message. */
export interface SecretsKey {
  key: Buffer;
  keyId: string;
}

export function secretsKeyFrom(base64: string): SecretsKey {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32) throw new Error(`a secrets key must be 32 bytes (base64), got ${key.length}`);
  return { key, keyId: crypto.createHash('sha256').update(key).digest('hex').slice(0, 8) };
}

export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PREFIX);
}

/** `enc:v1:<key id>:<iv>:<tag>:<ciphertext>`; the channel id is authenticated data, so a value copied to another channel does not open. */
export function seal(plain: string, key: SecretsKey, channelId: string): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key.key, iv);
  cipher.setAAD(Buffer.from(channelId, 'utf8'));
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return `${PREFIX}${key.keyId}:${iv.toString('base64')}:${cipher.getAuthTag().toString('base64')}:${data.toString('base64')}`;
}

export function open(sealed: string, key: SecretsKey, channelId: string): string {
  const [keyId, iv, tag, data] = sealed.slice(PREFIX.length).split(':');
  if (keyId !== key.keyId) {
    throw new Error(`channel ${channelId}: its secrets were sealed with key ${keyId}, this process has key ${key.keyId}; set the same REFDATA_SECRETS_KEY for the API and every worker`);
  }
  const decipher = crypto.createDecipheriv('aes-256-gcm', key.key, Buffer.from(iv, 'base64'));
  decipher.setAAD(Buffer.from(channelId, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new Error(`channel ${channelId}: a sealed secret does not open (tampered, or copied from another channel)`);
  }
}

/** Applies `fn` to every secret string of `value`, walking it along the channel's schema (as redaction does). */
function mapSecrets(schema: z.ZodType, value: unknown, fn: (s: string) => string, inSecret = false): unknown {
  if (value === undefined || value === null) return value;
  const secretHere = inSecret || secretFields.has(schema);
  if (typeof value === 'string') return secretHere ? fn(value) : value;
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable || schema instanceof z.ZodDefault) {
    return mapSecrets(schema.unwrap() as z.ZodType, value, fn, secretHere);
  }
  if (schema instanceof z.ZodPipe) return mapSecrets(schema.in as z.ZodType, value, fn, secretHere);
  if (Array.isArray(value)) {
    const element = schema instanceof z.ZodArray ? (schema.element as z.ZodType) : z.unknown();
    return value.map((v) => mapSecrets(element, v, fn, secretHere));
  }
  if (typeof value === 'object') {
    const shape = schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodType>) : null;
    const inner = schema instanceof z.ZodRecord ? (schema.valueType as z.ZodType) : null;
    const union = schema instanceof z.ZodUnion ? (schema.options as readonly z.ZodType[]).find((o) => o.safeParse(value).success) : null;
    if (union) return mapSecrets(union, value, fn, secretHere);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = mapSecrets(shape?.[k] ?? inner ?? z.unknown(), v, fn, secretHere);
    return out;
  }
  return value;
}

export class NoSecretsKeyError extends Error {
  override readonly name = 'NoSecretsKeyError';
}

/** The stored form of a parsed config: secrets sealed, everything else readable by an operator in SQL. */
export function sealChannelConfig(type: ChannelType, config: unknown, key: SecretsKey | null, channelId: string): unknown {
  return mapSecrets(channelConfigSchemas[type], config, (s) => {
    if (isSealed(s)) return s;
    if (!key) throw new NoSecretsKeyError(`channel ${channelId} (${type}) has secrets but this process has no secrets key to seal them with; set REFDATA_SECRETS_KEY`);
    return seal(s, key, channelId);
  });
}

/** The usable config: every sealed value opened. Values that were never sealed pass through. */
export function openChannelConfig(stored: unknown, key: SecretsKey | null, channelId: string): unknown {
  const walk = (v: unknown): unknown => {
    if (isSealed(v)) {
      if (!key) throw new Error(`channel ${channelId} has sealed secrets but no REFDATA_SECRETS_KEY is configured in this process`);
      return open(v, key, channelId);
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(stored);
}
