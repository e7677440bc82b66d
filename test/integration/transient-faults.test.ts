// Real PostgreSQL faults, classified: deadlock, serialization failure, a terminated backend (mid-transaction and
// mid-COPY), an exhausted pool and a bad value. The node-pg executor must survive each and serve the next call.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client } from 'pg';
import { ApplicationFailure } from '@temporalio/common';
import { createNodePgExecutor } from '../../src/db/postgres/node-pg';
import type { PgExecutor, PgSession } from '../../src/db/postgres/executor';
import { classifyDbError, failureForDbError } from '../../src/db/transient';
import { createTestDatabase, type TestDatabase } from '../support/pg';

let tdb: TestDatabase;
let admin: Client;
const executors: PgExecutor[] = [];

function executor(opts: Parameters<typeof createNodePgExecutor>[1] = {}): PgExecutor {
  const e = createNodePgExecutor(tdb.url, opts);
  executors.push(e);
  return e;
}

/** A promise and the function that resolves it, to sequence two transactions. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

async function terminate(applicationName: string): Promise<number> {
  const r = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2', [tdb.name, applicationName]);
  return r.rowCount ?? 0;
}

beforeAll(async () => {
  tdb = await createTestDatabase(inject('pgUrl'));
  admin = new Client({ connectionString: tdb.url });
  await admin.connect();
  await admin.query('CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL); INSERT INTO accounts VALUES (1, 100), (2, 100)');
  await admin.query('CREATE TABLE counts (n int NOT NULL)');
});

afterAll(async () => {
  for (const e of executors) await e.close().catch(() => undefined);
  await admin?.end();
  await tdb?.drop();
});

describe('transient database faults on real PostgreSQL', () => {
  it('a deadlock (40P01) is transient, and the survivor commits', async () => {
    const exec = executor();
    const bothLocked = { a: gate(), b: gate() };
    const lockInOrder = (first: number, second: number, mine: ReturnType<typeof gate>, theirs: ReturnType<typeof gate>) =>
      exec.transaction(async (tx: PgSession) => {
        await tx.query('UPDATE accounts SET balance = balance - 1 WHERE id = $1', [first]);
        mine.open();
        await theirs.wait;
        await tx.query('UPDATE accounts SET balance = balance + 1 WHERE id = $1', [second]);
      });
    const results = await Promise.allSettled([lockInOrder(1, 2, bothLocked.a, bothLocked.b), lockInOrder(2, 1, bothLocked.b, bothLocked.a)]);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(failed).toHaveLength(1);
    expect((failed[0]!.reason as { code?: string }).code).toBe('40P01');
    expect(classifyDbError(failed[0]!.reason)).toMatchObject({ kind: 'transient', reason: 'deadlock' });
    expect(failureForDbError(failed[0]!.reason)).toBe(failed[0]!.reason);
    expect(await exec.query('SELECT sum(balance)::int AS s FROM accounts')).toEqual([{ s: 200 }]);
  });

  it('a serialization failure (40001) is transient', async () => {
    const exec = executor();
    const bothRead = { a: gate(), b: gate() };
    const skew = (mine: ReturnType<typeof gate>, theirs: ReturnType<typeof gate>) =>
      exec.transaction(async (tx) => {
        await tx.query('SET TRANSACTION ISOLATION LEVEL SERIALIZABLE');
        const [{ c }] = await tx.query<{ c: number }>('SELECT count(*)::int AS c FROM counts');
        mine.open();
        await theirs.wait;
        await tx.query('INSERT INTO counts VALUES ($1)', [c]);
      });
    const results = await Promise.allSettled([skew(bothRead.a, bothRead.b), skew(bothRead.b, bothRead.a)]);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(failed).toHaveLength(1);
    expect(classifyDbError(failed[0]!.reason)).toMatchObject({ kind: 'transient', code: '40001' });
  });

  it('a backend terminated mid-transaction rejects the transaction as transient; the process and the pool live on', async () => {
    const exec = executor({ applicationName: 'refdata-test-terminate-tx' });
    const inside = gate();
    const tx = exec.transaction(async (s) => {
      await s.query('INSERT INTO counts VALUES (42)');
      inside.open();
      await new Promise((r) => setTimeout(r, 1500));
      await s.query('INSERT INTO counts VALUES (43)');
    }).then(() => null, (e: unknown) => e);
    await inside.wait;
    expect(await terminate('refdata-test-terminate-tx')).toBeGreaterThanOrEqual(1);
    const err = await tx;
    expect(classifyDbError(err).kind).toBe('transient');
    expect(await exec.query('SELECT count(*)::int AS c FROM counts WHERE n IN (42, 43)')).toEqual([{ c: 0 }]);
  });

  it('a backend terminated mid-COPY rejects the COPY as transient and loses the whole batch', async () => {
    const exec = executor({ applicationName: 'refdata-test-terminate-copy' });
    const started = gate();
    async function* slowRows(): AsyncGenerator<string> {
      for (let i = 0; i < 50; i++) {
        yield `${1000 + i}\n`;
        if (i === 5) started.open();
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    // The outcome is captured at once: the COPY can fail before terminate() returns, and a rejection nobody
    // is listening to yet would be reported as unhandled.
    const outcome = exec
      .transaction((s) => s.copyFromCsv('COPY counts (n) FROM STDIN WITH (FORMAT csv)', slowRows()))
      .then(() => null, (e: unknown) => e);
    await started.wait;
    expect(await terminate('refdata-test-terminate-copy')).toBeGreaterThanOrEqual(1);
    const err = await outcome;
    expect(err).not.toBeNull();
    expect(classifyDbError(err).kind).toBe('transient');
    expect(await exec.query('SELECT count(*)::int AS c FROM counts WHERE n >= 1000')).toEqual([{ c: 0 }]);
  });

  it('an exhausted pool fails the call after the connection timeout, as transient', async () => {
    const exec = executor({ max: 1, connectionTimeoutMs: 300 });
    const release = gate();
    const holding = exec.transaction(async () => release.wait);
    const err = await exec.query('SELECT 1').then(() => null, (e: unknown) => e);
    release.open();
    await holding;
    expect(classifyDbError(err)).toMatchObject({ kind: 'transient', reason: 'pool exhausted (no connection within the timeout)' });
    expect(await exec.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('a bad value (22P02) is a data fault and becomes a non-retryable InvalidFile failure', async () => {
    const exec = executor();
    const err = await exec.query("INSERT INTO counts VALUES ('not a number')").then(() => null, (e: unknown) => e);
    expect(classifyDbError(err)).toMatchObject({ kind: 'data', code: '22P02' });
    const failure = failureForDbError(err) as ApplicationFailure;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'InvalidFile', nonRetryable: true });
  });
});
