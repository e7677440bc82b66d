// The OpenAPI document the API serves at /docs/json, built without listening: no route runs, so the database is a
// stand-in that refuses every call and the Temporal client never connects; `refdata docs` and its test need no server.
import { Client } from '@temporalio/client';
import { buildApi } from '../api/server';
import type { Database } from '../db/types';
import { silentLogger } from '../log/logger';

export type OpenApiDocument = {
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, JsonSchema>; securitySchemes?: Record<string, unknown> };
};

export interface OpenApiOperation {
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Array<Record<string, unknown>>;
  parameters?: Array<{ in: string; name: string; required?: boolean; description?: string; schema?: JsonSchema }>;
  requestBody?: { required?: boolean; content: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: JsonSchema }> }>;
  'x-roles'?: string[];
}

export type JsonSchema = { [key: string]: unknown };

/** Any property is another stand-in; calling one fails loudly (building the API must not touch the database). */
function refusingDatabase(path = 'db'): Database {
  const fn = () => {
    throw new Error(`${path}() was called while building the OpenAPI document`);
  };
  return new Proxy(fn, {
    get: (_t, key) => (key === 'then' ? undefined : key === 'kind' ? 'embedded' : refusingDatabase(`${path}.${String(key)}`)),
  }) as unknown as Database;
}

export async function openApiDocument(): Promise<OpenApiDocument> {
  const db = refusingDatabase();
  // The admin key only has to exist (the admin routes check its presence when called, never while building).
  const app = await buildApi({ db, client: new Client({ namespace: 'default' }), log: silentLogger(), dropRoot: '/var/lib/refdata/dropoff', adminKey: 'docs-only-admin-key-000' });
  try {
    await app.ready();
    return JSON.parse(JSON.stringify(app.swagger())) as OpenApiDocument;
  } finally {
    await app.close();
  }
}
