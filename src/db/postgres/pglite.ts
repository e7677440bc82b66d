// PGlite driver (PostgreSQL compiled to WASM, in-process) for the embedded default database.
import fs from 'node:fs';
import type { PGlite as PGliteType, Transaction } from '@electric-sql/pglite';
import type { CopyData, PgExecutor, PgSession, Row, SqlValue } from './executor';

type Queryable = Pick<Transaction, 'query' | 'exec'>;

// PGlite reads COPY data from a virtual /dev/blob; callers keep each chunk bounded (one batch).
function sessionOf(q: Queryable): PgSession {
  return {
    async query<R extends Row>(sql: string, params: SqlValue[] = []): Promise<R[]> {
      const res = await q.query<R>(sql, params);
      return res.rows;
    },
    async copyFromCsv(copySql: string, csv: CopyData): Promise<number> {
      const res = await q.query(copySql.replace(/FROM\s+STDIN/i, "FROM '/dev/blob'"), [], { blob: new Blob(await collect(csv)) });
      return res.affectedRows ?? 0;
    },
    async exec(sql: string): Promise<void> {
      await q.exec(sql);
    },
  };
}

/** PGlite reads COPY data from one blob: gather the (bounded) batch first. */
async function collect(csv: CopyData): Promise<Array<string | Buffer>> {
  if (typeof csv === 'string') return [csv];
  if (Array.isArray(csv)) return [...(csv as readonly string[])];
  const out: Array<string | Buffer> = [];
  for await (const c of csv as AsyncIterable<string | Buffer>) out.push(c);
  return out;
}

export async function createPgliteExecutor(dataDir?: string): Promise<PgExecutor> {
  // PGlite ships as ESM and CJS; required lazily so server deployments never load the WASM.
  const { PGlite } = require('@electric-sql/pglite') as { PGlite: typeof PGliteType };
  if (dataDir) fs.mkdirSync(dataDir, { recursive: true });
  const db = dataDir ? new PGlite(dataDir) : new PGlite();
  await db.waitReady;
  const base = sessionOf(db);
  return {
    ...base,
    // PGlite serialises transactions itself, so concurrent activities cannot interleave inside one.
    transaction: <T>(fn: (tx: PgSession) => Promise<T>) => db.transaction((tx) => fn(sessionOf(tx))),
    close: () => db.close(),
  };
}
