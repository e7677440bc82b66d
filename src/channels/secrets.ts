// Marks which channel-config fields are secrets (in the zod schemas themselves) and replaces them with "***" for output.
import { z } from 'zod';

/** Schemas registered here hold secrets: the API never returns them and the store encrypts them at rest. */
export const secretFields = z.registry<{ secret: true }>();

/**
 * Marks a schema as secret. On a record or object, every value inside is secret (custom headers, say).
 * Apply it last, around the finished schema (`secret(z.string().min(1))`): zod returns a new schema from every
 * `.min()`/`.refine()`, and the new one is not registered. `.optional()` outside is fine (the walk unwraps it).
 */
export function secret<T extends z.ZodType>(schema: T): T {
  secretFields.add(schema, { secret: true });
  return schema;
}

export const REDACTED = '***';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * Walks a value along its schema and replaces every secret leaf with "***". Keys stay, so an operator still sees
 * which headers or credentials are set. Unknown shapes are kept only when the schema says they hold no secret.
 */
export function redactWithSchema(schema: z.ZodType, value: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (secretFields.has(schema)) return blankOut(value);
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable || schema instanceof z.ZodDefault) {
    return redactWithSchema(schema.unwrap() as z.ZodType, value);
  }
  if (schema instanceof z.ZodPipe) return redactWithSchema(schema.in as z.ZodType, value);
  if (schema instanceof z.ZodObject && isRecord(value)) {
    const shape = schema.shape as Record<string, z.ZodType>;
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = key in shape ? redactWithSchema(shape[key], v) : REDACTED;
    return out;
  }
  if (schema instanceof z.ZodArray && Array.isArray(value)) {
    return value.map((v) => redactWithSchema(schema.element as z.ZodType, v));
  }
  if (schema instanceof z.ZodRecord && isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = redactWithSchema(schema.valueType as z.ZodType, v);
    return out;
  }
  if (schema instanceof z.ZodUnion) {
    // The option the value actually matches decides which of its fields are secret.
    const options = schema.options as readonly z.ZodType[];
    const match = options.find((o) => o.safeParse(value).success);
    return match ? redactWithSchema(match, value) : blankOut(value);
  }
  return value;
}

/** Whether a schema (or anything inside it) declares a secret; lets a test prove every channel marks its secrets. */
export function hasSecretFields(schema: z.ZodType): boolean {
  if (secretFields.has(schema)) return true;
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable || schema instanceof z.ZodDefault) {
    return hasSecretFields(schema.unwrap() as z.ZodType);
  }
  if (schema instanceof z.ZodPipe) return hasSecretFields(schema.in as z.ZodType);
  if (schema instanceof z.ZodObject) return Object.values(schema.shape as Record<string, z.ZodType>).some(hasSecretFields);
  if (schema instanceof z.ZodArray) return hasSecretFields(schema.element as z.ZodType);
  if (schema instanceof z.ZodRecord) return hasSecretFields(schema.valueType as z.ZodType);
  if (schema instanceof z.ZodUnion) return (schema.options as readonly z.ZodType[]).some(hasSecretFields);
  return false;
}

function blankOut(value: unknown): Json {
  if (Array.isArray(value)) return value.map(() => REDACTED);
  if (isRecord(value)) return Object.fromEntries(Object.keys(value).map((k) => [k, REDACTED]));
  return REDACTED;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
