// Limits of issue 13 against the real server and a real PostgreSQL: per-key request rates (429 with Retry-After).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../src/api/server';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { Database } from '../../src/db/types';
import { silentLogger } from '../../src/log/logger';
import { createApiKey } from '../../src/reporting/api-keys';
import { createTestDatabase, type TestDatabase } from '../support/pg';
import { makeTempDir, type TempDir } from '../support/temp';

const adminKey = 'test-admin-key-0123456789';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const MAX = 3;
let pg: TestDatabase;
let db: Database;
let temp: TempDir;
let api: FastifyInstance;
let readOnlyKey: string;

beforeAll(async () => {
  pg = await createTestDatabase(inject('pgUrl'));
  db = createPostgresDatabase(createNodePgExecutor(pg.url), 'postgres');
  await db.migrate();
  temp = await makeTempDir('refdata-api-limits-');
  readOnlyKey = (await createApiKey(db.distribution, { role: 'read-only' })).key;
  // A window far longer than the test: no request here can see the bucket refill.
  api = await buildApi({ db, client: new Client({ namespace: 'default' }), log: silentLogger(), dropRoot: temp.path, adminKey, rateLimit: { max: MAX, windowMs: 60 * 60 * 1000 } });
});
afterAll(async () => {
  await api?.close();
  await db?.close();
  await pg?.drop();
  await temp?.cleanup();
});

async function burst(n: number, headers: Record<string, string>, remoteAddress = '127.0.0.1') {
  const answers = [];
  for (let i = 0; i < n; i++) answers.push(await api.inject({ method: 'GET', url: '/api/v1/files', headers, remoteAddress }));
  return answers;
}

describe('request rate limits per key', () => {
  it('a key gets MAX requests per window, then 429 with Retry-After and a clear message', async () => {
    const answers = await burst(MAX + 2, bearer(adminKey));
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 429, 429]);
    const refused = answers[MAX]!;
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    expect(refused.json().error.message).toMatch(/too many requests: at most 3 per 3600 s/);
  });

  it('another key, from the same address, has its own bucket', async () => {
    const answers = await burst(MAX + 1, bearer(readOnlyKey));
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 429]);
  });

  it('without a valid key, requests count against the client address, and made-up tokens share that bucket', async () => {
    const answers = [
      ...(await burst(2, {}, '192.0.2.7')),
      ...(await burst(2, bearer('rdk_made-up-1'), '192.0.2.7')),
      ...(await burst(1, bearer('rdk_made-up-2'), '192.0.2.7')),
    ];
    expect(answers.map((a) => a.statusCode)).toEqual([401, 401, 401, 429, 429]);
    expect(answers[4]!.headers['retry-after']).toBeDefined();
    // Another address is not affected.
    expect((await burst(1, {}, '192.0.2.8'))[0]!.statusCode).toBe(401);
  });
});
