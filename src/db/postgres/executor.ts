// What the PostgreSQL dialect needs from a driver (node-postgres), as an interface the stores and tests share.

export type SqlValue = string | number | boolean | Date | null;
export type Row = Record<string, unknown>;

export interface PgSession {
  query<R extends Row = Row>(sql: string, params?: SqlValue[]): Promise<R[]>;
  /** Runs `COPY … FROM STDIN` (the SQL says where) feeding it the CSV text; returns the rows copied. */
  copyFromCsv(copySql: string, csv: CopyData): Promise<number>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /** Runs `COPY … TO STDOUT`, handing its output to `sink` as it arrives (constant memory); returns the rows copied. */
  copyOut(copySql: string, sink: (chunks: AsyncIterable<Buffer>) => Promise<void>): Promise<number>;
}

export interface PgExecutor extends PgSession {
  transaction<T>(fn: (tx: PgSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** COPY input: text, or chunks of text or UTF-8 bytes (a file's records passed through as read). */
export type CopyData = string | readonly string[] | AsyncIterable<string | Buffer>;
