// Runs generated statements on a pool or inside a transaction, binding each @param with its declared SQL type.
import sql from 'mssql';
import type { Param, ParamType, Statement } from './statement';

export type Runner = sql.ConnectionPool | sql.Transaction;
export type Row = Record<string, unknown>;

/** Longest nvarchar that is not max; sized params keep plans comparable with the nvarchar(n) columns. */
const NVARCHAR_LIMIT = 4000;

export function sqlTypeOf(p: Param): sql.ISqlType {
  const t: ParamType = p.type;
  switch (t) {
    case 'nvarchar':
      return sql.NVarChar(typeof p.value === 'string' && p.value.length > NVARCHAR_LIMIT ? sql.MAX : NVARCHAR_LIMIT);
    case 'int':
      return sql.Int();
    case 'bigint':
      return sql.BigInt();
    case 'bit':
      return sql.Bit();
    case 'datetime2':
      return sql.DateTime2(7);
  }
}

export async function run(on: Runner, stmt: Statement | string): Promise<sql.IResult<Row>> {
  const request = on.request();
  if (typeof stmt === 'string') return request.query<Row>(stmt);
  for (const [name, p] of Object.entries(stmt.params)) request.input(name, sqlTypeOf(p), p.value);
  return request.query<Row>(stmt.text);
}

/** Rows of the first result set. */
export async function rowsOf(on: Runner, stmt: Statement | string): Promise<Row[]> {
  return (await run(on, stmt)).recordset ?? [];
}

/** Sends a whole script as one batch (migrations): no sp_executesql wrapper, no parameters. */
export async function runBatch(on: Runner, script: string): Promise<void> {
  await on.request().batch(script);
}

/**
 * Runs `fn` in one transaction, committing on success and rolling back on any error. A rollback can itself
 * fail when the server already ended the transaction; the original error is the one worth reporting.
 */
export async function withTransaction<T>(pool: sql.ConnectionPool, fn: (tx: sql.Transaction) => Promise<T>): Promise<T> {
  const tx = new sql.Transaction(pool);
  await tx.begin();
  try {
    const result = await fn(tx);
    await tx.commit();
    return result;
  } catch (err) {
    try {
      await tx.rollback();
    } catch {
      // already rolled back by the server; nothing left to undo
    }
    throw err;
  }
}
