// What every route's OpenAPI operation must say and every request must pass, whatever the plugin declared: defaults
// are not "required", the 400/404 answers are documented, NUL bytes are refused, and a known path asked with a method it
// does not serve answers 405 with Allow.
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { OwnedRoute } from './route-owner';
import { ErrorBody } from './schemas';

type Schema = Record<string, unknown>;

/** A parameter with a default is filled in by validation, so the caller need not send it: not `required` in the document. */
function withoutDefaultedRequired(schema: unknown): unknown {
  const s = schema as { properties?: Record<string, { default?: unknown }>; required?: string[] } | undefined;
  if (!s?.properties || !Array.isArray(s.required)) return schema;
  const required = s.required.filter((name) => s.properties![name]?.default === undefined);
  if (required.length === s.required.length) return schema;
  // A copy: TypeBox schemas are shared between routes, and fastify compiles this one.
  const copy: Schema = { ...(s as Schema), required };
  if (required.length === 0) delete copy.required;
  return copy;
}

/** Text without a NUL byte (see refuseNulBytes): said in the document so that what it allows, the server accepts. */
const NO_NUL = '^[^\\u0000]*$';

/** String parameters without a pattern of their own get NO_NUL (a copy: TypeBox schemas are shared between routes). */
function withoutNul(schema: unknown): unknown {
  const s = schema as { properties?: Record<string, Schema> } | undefined;
  if (!s?.properties) return schema;
  const open = Object.entries(s.properties).filter(([, p]) => p.type === 'string' && p.pattern === undefined && p.enum === undefined && p.const === undefined);
  if (open.length === 0) return schema;
  const properties = { ...s.properties };
  for (const [name, p] of open) properties[name] = { ...p, pattern: NO_NUL };
  return { ...(s as Schema), properties };
}

/** Documents what validation and the not-found path can answer, and drops `required` from defaulted parameters. */
export function documentRoute(route: RouteOptions): void {
  const schema = route.schema as Schema | undefined;
  if (!schema) return;
  if (schema.querystring) schema.querystring = withoutNul(withoutDefaultedRequired(schema.querystring));
  if (schema.params) schema.params = withoutNul(schema.params);
  const response = schema.response as Schema | undefined;
  if (!response) return;
  if (schema.querystring || schema.params || schema.body) response[400] ??= ErrorBody;
  // A body beyond REFDATA_BODY_MAX_BYTES (src/api/server.ts).
  if (schema.body) response[413] ??= ErrorBody;
  if (schema.params) response[404] ??= ErrorBody;
  // The rate limiter (src/api/server.ts) can answer any route.
  response[429] ??= ErrorBody;
}

const hasNul = (values: unknown): boolean =>
  values !== null && typeof values === 'object' && Object.values(values).some((v) => (Array.isArray(v) ? v : [v]).some((x) => typeof x === 'string' && x.includes('\u0000')));

/** A NUL byte in a query or path parameter is never meaningful here and PostgreSQL refuses it in text: 400, not 500. */
export async function refuseNulBytes(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  if (hasNul(req.query) || hasNul(req.params)) {
    return reply.code(400).send({ error: { code: 'BAD_REQUEST', message: 'a query or path parameter contains a NUL byte' } });
  }
  return undefined;
}

/** `/api/v1/files/:id` → a pattern matching its concrete paths (`:name` one segment, `*` the rest). */
function patternOf(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}/?$`);
}

/** The methods a concrete path is served with (for 405 and its Allow header); empty when no route has the path. */
export function allowedMethods(table: readonly OwnedRoute[], pathname: string): string[] {
  const methods = new Set<string>();
  for (const r of table) if (patternOf(r.url).test(pathname)) methods.add(r.method);
  return [...methods].sort();
}
