// `refdata migrate --down-to N` and `--status` through the real CLI on real PostgreSQL: down files newest first,
// each recorded, the schema really gone, and `refdata migrate` bringing it back.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { PgExecutor } from '../../src/db/postgres/executor';
import { createTestDatabase, type TestDatabase } from '../support/pg';

const run = promisify(execFile);
let tdb: TestDatabase;
let exec: PgExecutor;

async function refdata(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, DATABASE_URL: tdb.url, LOG_LEVEL: 'silent', LOG_DIR: '' };
  try {
    const { stdout, stderr } = await run(process.execPath, [path.resolve(__dirname, '../../bin/refdata'), 'migrate', ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const tableExists = async (name: string) => (await exec.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [name]))[0]!.present === true;

beforeAll(async () => {
  tdb = await createTestDatabase(inject('pgUrl'));
  exec = createNodePgExecutor(tdb.url);
});
afterAll(async () => {
  await exec?.close();
  await tdb?.drop();
});

describe('refdata migrate --down-to', () => {
  it('rolls back newest first, refuses a bad number, and migrates forward again', async () => {
    const up = await refdata();
    expect(up.code, up.stderr).toBe(0);
    const versions = up.stdout.trim().split('\n').map((l) => Number(l.slice(0, 3)));
    expect(versions.length).toBeGreaterThanOrEqual(5);
    expect(await tableExists('ref.loads')).toBe(true);

    const down = await refdata('--down-to', '1');
    expect(down.code, down.stderr).toBe(0);
    const rolled = down.stdout.split('\n').filter((l) => l.startsWith('rolled back')).map((l) => Number(l.slice('rolled back '.length, 'rolled back '.length + 3)));
    expect(rolled).toEqual(versions.filter((v) => v > 1).sort((a, b) => b - a));
    expect(down.stdout).toMatch(/^001 foundation +applied /m);
    expect(down.stdout).toMatch(/^002 instruments +pending$/m);
    expect(await tableExists('ref.instruments')).toBe(false);
    expect((await exec.query("SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = 'ref' AND column_name = 'error_category'"))[0]!.n).toBe(0);
    expect((await exec.query('SELECT version FROM ref.schema_migrations ORDER BY version')).map((r) => r.version)).toEqual([1]);

    const status = await refdata('--status');
    expect(status.stdout.match(/pending/g)?.length).toBe(versions.length - 1);
    expect((await refdata('--down-to', 'two')).code).not.toBe(0);
    expect((await refdata('--down-to', '1')).stdout).toMatch(/nothing to roll back/);

    const again = await refdata();
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).not.toMatch(/pending/);
    expect(await tableExists('ref.instruments')).toBe(true);
  });
});
