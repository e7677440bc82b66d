// node-postgres driver for the PostgreSQL dialect: a pool, transactions on one client, COPY via pg-copy-streams.
import { Pool, type PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PgExecutor, PgSession, Row, SqlValue } from './executor';

function sessionOf(client: Pick<PoolClient, 'query'>): PgSession {
  return {
    async query<R extends Row>(sql: string, params: SqlValue[] = []): Promise<R[]> {
      const res = await client.query(sql, params);
      return res.rows as R[];
    },
    async copyFromCsv(copySql: string, csv: string | readonly string[]): Promise<number> {
      const stream = (client as PoolClient).query(copyFrom(copySql));
      // Chunks stream in as they are, so the server parses while the rest is still on its way.
      await pipeline(Readable.from(typeof csv === 'string' ? [csv] : csv), stream);
      return stream.rowCount;
    },
    async exec(sql: string): Promise<void> {
      await client.query(sql);
    },
  };
}

export function createNodePgExecutor(url: string, opts: { max?: number; applicationName?: string } = {}): PgExecutor {
  const pool = new Pool({ connectionString: url, max: opts.max ?? 10, application_name: opts.applicationName ?? 'refdata' });
  // An idle client that loses its server must not crash the process; the next checkout reconnects.
  pool.on('error', () => undefined);
  return {
    async query<R extends Row>(sql: string, params: SqlValue[] = []): Promise<R[]> {
      const res = await pool.query(sql, params);
      return res.rows as R[];
    },
    async copyFromCsv(copySql: string, csv: string | readonly string[]): Promise<number> {
      const client = await pool.connect();
      try {
        return await sessionOf(client).copyFromCsv(copySql, csv);
      } finally {
        client.release();
      }
    },
    async exec(sql: string): Promise<void> {
      await pool.query(sql);
    },
    async transaction<T>(fn: (tx: PgSession) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await fn(sessionOf(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        throw err;
      } finally {
        client.release(broken);
      }
    },
    async close(): Promise<void> {
      await pool.end();
    },
  };
}
