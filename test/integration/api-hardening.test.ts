// What the API fuzzer found (issue 13), each against a real PostgreSQL: NUL bytes and out-of-range ids are 400s, not
// 500s; defaulted parameters are not "required" in the document; long path parameters reach validation; a known path
// asked with another method answers 405 with Allow; every answer a route can give is documented.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../src/api/server';
import { createPostgresDatabase } from '../../src/db/postgres';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { Database } from '../../src/db/types';
import { silentLogger } from '../../src/log/logger';
import { createTestDatabase, type TestDatabase } from '../support/pg';
import { makeTempDir, type TempDir } from '../support/temp';

const adminKey = 'test-admin-key-0123456789';
const auth = { authorization: `Bearer ${adminKey}` };
let pg: TestDatabase;
let db: Database;
let temp: TempDir;
let api: FastifyInstance;

beforeAll(async () => {
  pg = await createTestDatabase(inject('pgUrl'));
  db = createPostgresDatabase(createNodePgExecutor(pg.url), 'postgres');
  await db.migrate();
  temp = await makeTempDir('refdata-api-hardening-');
  // A client that never connects: none of these requests reaches Temporal.
  api = await buildApi({ db, client: new Client({ namespace: 'default' }), log: silentLogger(), dropRoot: temp.path, adminKey });
});
afterAll(async () => {
  await api?.close();
  await db?.close();
  await pg?.drop();
  await temp?.cleanup();
});

describe('inputs the database cannot take are refused before it sees them', () => {
  it.each([
    ['GET', '/api/v1/files?table=a%00b'],
    ['GET', '/api/v1/instruments?name=x%00y'],
    ['GET', '/api/v1/loads?table=%00'],
    ['GET', '/api/v1/instruments/NSE%00EQ'],
  ])('%s %s (a NUL byte) is 400', async (method, url) => {
    const res = await api.inject({ method: method as 'GET', url, headers: auth });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
  });

  it('the document says so: every string query and path parameter excludes NUL, so what it allows is accepted', async () => {
    const doc = (await api.inject({ method: 'GET', url: '/docs/json', headers: auth })).json() as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string; schema?: { type?: string; pattern?: string; enum?: unknown } }[] }>>;
    };
    const strings = Object.entries(doc.paths).flatMap(([p, ops]) => Object.entries(ops).flatMap(([m, op]) =>
      (op.parameters ?? []).filter((x) => (x.in === 'query' || x.in === 'path') && x.schema?.type === 'string' && x.schema.enum === undefined)
        .map((x) => ({ where: `${m} ${p} ${x.name}`, pattern: x.schema!.pattern }))));
    expect(strings.length).toBeGreaterThan(10);
    for (const s of strings) {
      expect(s.pattern, s.where).toBeDefined();
      expect(new RegExp(s.pattern!, 'u').test('a\u0000b'), s.where).toBe(false);
    }
    const name = strings.find((s) => s.where === 'get /api/v1/instruments name');
    expect(name?.pattern).toBeDefined();
  });

  it.each([
    ['GET', '/api/v1/files/1099511627775'],
    ['POST', '/api/v1/files/38532942395317/cancel'],
    ['GET', '/api/v1/files/2147483648'],
  ])('%s %s (beyond the 32-bit id column) is 400', async (method, url) => {
    const res = await api.inject({ method: method as 'GET', url, headers: auth });
    expect(res.statusCode, res.body).toBe(400);
  });

  it('the largest id the column holds is an ordinary 404', async () => {
    expect((await api.inject({ method: 'GET', url: '/api/v1/files/2147483647', headers: auth })).statusCode).toBe(404);
  });

  it('a path parameter past the default 100 characters reaches validation: 404 within its maxLength, 400 beyond', async () => {
    expect((await api.inject({ method: 'GET', url: `/api/v1/instruments/${'K'.repeat(200)}`, headers: auth })).statusCode).toBe(404);
    expect((await api.inject({ method: 'GET', url: `/api/v1/instruments/${'K'.repeat(300)}`, headers: auth })).statusCode).toBe(400);
  });
});

describe('methods a path does not serve', () => {
  it.each(['TRACE', 'PUT', 'DELETE', 'PATCH'])('%s on /api/v1/files is 405 with Allow: GET, HEAD, POST', async (method) => {
    const res = await api.inject({ method: method as 'PUT', url: '/api/v1/files', headers: auth });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD, POST');
  });

  it('a path no route has stays 404', async () => {
    expect((await api.inject({ method: 'PUT', url: '/api/v1/nothing-here', headers: auth })).statusCode).toBe(404);
  });

  it('on a parameterised path too: PUT /api/v1/files/7 is 405 with Allow: GET, HEAD', async () => {
    const res = await api.inject({ method: 'PUT', url: '/api/v1/files/7', headers: auth });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
  });
});

it('/metrics still answers Prometheus text with a key, and 401 without', async () => {
  const res = await api.inject({ method: 'GET', url: '/metrics', headers: auth });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain/);
  expect(res.body).toMatch(/^# HELP refdata_/m);
  expect((await api.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
});

describe('the OpenAPI document', () => {
  type Operation = { parameters?: { name: string; in: string; required?: boolean; schema?: { default?: unknown } }[]; responses: Record<string, unknown>; security?: unknown[] };
  let paths: Record<string, Record<string, Operation>>;
  beforeAll(async () => {
    paths = ((await api.inject({ method: 'GET', url: '/docs/json', headers: auth })).json() as { paths: typeof paths }).paths;
  });

  it('marks no parameter with a default as required', () => {
    const wrong: string[] = [];
    for (const [p, ops] of Object.entries(paths)) {
      for (const [m, op] of Object.entries(ops)) {
        for (const param of op.parameters ?? []) if (param.required && param.schema?.default !== undefined) wrong.push(`${m} ${p} ${param.name}`);
      }
    }
    expect(wrong).toEqual([]);
    const limit = paths['/api/v1/instruments/sync']!.get!.parameters!.find((x) => x.name === 'limit');
    expect(limit).toMatchObject({ required: false, schema: { default: 20 } });
  });

  it('documents 400 wherever there is input, 404 wherever there is a path parameter, 401/403 wherever a key is checked', () => {
    const missing: string[] = [];
    for (const [p, ops] of Object.entries(paths)) {
      for (const [m, op] of Object.entries(ops)) {
        const codes = Object.keys(op.responses);
        if (codes.length === 1 && codes[0] === '200' && !op.parameters?.length && !op.security) continue; // bare pages (docs assets)
        if (op.parameters?.length && !codes.includes('400')) missing.push(`${m} ${p} 400`);
        if (p.includes('{') && !codes.includes('404')) missing.push(`${m} ${p} 404`);
        if (op.security?.length && !(codes.includes('401') && codes.includes('403'))) missing.push(`${m} ${p} 401/403`);
      }
    }
    expect(missing).toEqual([]);
  });
});
