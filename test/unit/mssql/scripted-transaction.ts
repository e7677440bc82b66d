// Test helper: a stand-in for an mssql transaction or pool that records what runs and answers from a script.
import type sql from 'mssql';

export type Row = Record<string, unknown>;
export interface Reply {
  recordset?: Row[];
  rowsAffected?: number[];
}

/** Records every statement and bulk table; answers queries from `respond`. */
export class ScriptedTransaction {
  readonly statements: { text: string; params: Row }[] = [];
  readonly bulks: sql.Table[] = [];
  constructor(private readonly respond: (text: string, params: Row) => Reply = () => ({})) {}

  request() {
    const params: Row = {};
    const run = async (text: string) => {
      this.statements.push({ text, params });
      const reply = this.respond(text, params);
      return { recordset: reply.recordset ?? [], rowsAffected: reply.rowsAffected ?? [0] };
    };
    const request = {
      input: (name: string, _type: unknown, value: unknown) => {
        params[name] = value;
        return request;
      },
      query: run,
      batch: run,
      bulk: async (table: sql.Table) => {
        this.bulks.push(table);
        return { rowsAffected: table.rows.length };
      },
    };
    return request;
  }

  get tx(): sql.Transaction {
    return this as unknown as sql.Transaction;
  }

  /** The same script standing in for a pool (statements that run outside a transaction). */
  get pool(): sql.ConnectionPool {
    return this as unknown as sql.ConnectionPool;
  }

  texts(): string[] {
    return this.statements.map((s) => s.text);
  }
}
