// node-postgres driver for the PostgreSQL dialect: a pool, transactions on one client, COPY via pg-copy-streams.
import { Pool, type PoolClient } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CopyData, PgExecutor, PgSession, Row, SqlValue } from './executor';

function sessionOf(client: Pick<PoolClient, 'query'>): PgSession {
  return {
    async query<R extends Row>(sql: string, params: SqlValue[] = []): Promise<R[]> {
      const res = await client.query(sql, params);
      return res.rows as R[];
    },
    async copyFromCsv(copySql: string, csv: CopyData): Promise<number> {
      const stream = (client as PoolClient).query(copyFrom(copySql));
      // Chunks stream in as they are, so the server parses while the rest is still on its way.
      await pipeline(Readable.from(typeof csv === 'string' ? [csv] : csv), stream);
      return stream.rowCount;
    },
    async exec(sql: string): Promise<void> {
      await client.query(sql);
    },
    async copyOut(copySql: string, sink: (chunks: AsyncIterable<Buffer>) => Promise<void>): Promise<number> {
      const stream = (client as PoolClient).query(copyTo(copySql));
      // node-pg reports a lost connection (or the server's error) to the COPY by emitting 'error' on the stream without
      // destroying it, possibly before the sink reads (a client already dead fails the query on the next tick). Unheard,
      // that event crashes the process; and a reader that starts after it would wait forever for data that never
      // comes. Destroying the stream with the error makes every reader, now or later, fail with it.
      stream.on('error', (err) => {
        if (!stream.destroyed) stream.destroy(err);
      });
      try {
        await sink(chunksOf(stream));
      } catch (err) {
        // The sink gave up (disk full, cancelled): read the rest so the connection is back in step for ROLLBACK.
        if (!stream.readableEnded && !stream.destroyed) {
          stream.resume();
          await new Promise((resolve) => stream.once('end', resolve).once('error', resolve));
        }
        throw err;
      }
      return stream.rowCount;
    },
  };
}

/**
 * The stream's chunks as they arrive, without destroying the stream when the reader stops early (the default async
 * iterator would): a COPY destroyed half-way would leave the connection waiting for the rest forever.
 */
function chunksOf(stream: Readable): AsyncIterable<Buffer> {
  return stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;
}

/**
 * A checked-out client. pg-pool removes its own 'error' listener while a client is out, and node-pg emits
 * 'error' when the server goes away (pg_terminate_backend, a restart), even mid-query: without a listener of
 * ours that event would crash the process. The client is then released as broken, so the pool drops it.
 */
async function checkout(pool: Pool): Promise<{ client: PoolClient; lost: () => boolean; release(broken?: boolean): void }> {
  const client = await pool.connect();
  let lost = false;
  const onError = () => {
    lost = true;
  };
  client.on('error', onError);
  return {
    client,
    lost: () => lost,
    release(broken = false) {
      client.removeListener('error', onError);
      client.release(broken || lost);
    },
  };
}

export function createNodePgExecutor(
  url: string,
  opts: { max?: number; applicationName?: string; connectionTimeoutMs?: number } = {},
): PgExecutor {
  const pool = new Pool({
    connectionString: url,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'refdata',
    // A pool that cannot hand out a connection in time fails the call (a transient fault Temporal retries)
    // instead of waiting forever; keep-alive notices a peer that vanished without closing the socket.
    connectionTimeoutMillis: opts.connectionTimeoutMs ?? 30_000,
    keepAlive: true,
  });
  // An idle client that loses its server must not crash the process; the next checkout reconnects.
  pool.on('error', () => undefined);
  return {
    async query<R extends Row>(sql: string, params: SqlValue[] = []): Promise<R[]> {
      const res = await pool.query(sql, params);
      return res.rows as R[];
    },
    async copyFromCsv(copySql: string, csv: CopyData): Promise<number> {
      const out = await checkout(pool);
      let failed = false;
      try {
        return await sessionOf(out.client).copyFromCsv(copySql, csv);
      } catch (err) {
        // A COPY that failed half-way may leave the protocol mid-stream: never reuse that connection.
        failed = true;
        throw err;
      } finally {
        out.release(failed);
      }
    },
    async exec(sql: string): Promise<void> {
      await pool.query(sql);
    },
    async copyOut(copySql: string, sink: (chunks: AsyncIterable<Buffer>) => Promise<void>): Promise<number> {
      const out = await checkout(pool);
      let failed = false;
      try {
        return await sessionOf(out.client).copyOut(copySql, sink);
      } catch (err) {
        failed = true;
        throw err;
      } finally {
        out.release(failed);
      }
    },
    async transaction<T>(fn: (tx: PgSession) => Promise<T>): Promise<T> {
      const out = await checkout(pool);
      const { client } = out;
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await fn(sessionOf(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        // The server already ended a lost connection's transaction; ROLLBACK could only fail on it.
        if (out.lost()) broken = true;
        else {
          try {
            await client.query('ROLLBACK');
          } catch {
            broken = true;
          }
        }
        throw err;
      } finally {
        out.release(broken);
      }
    },
    async close(): Promise<void> {
      await pool.end();
    },
  };
}
