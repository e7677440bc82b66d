// The SQL Server ledger-retention statements without a server: each binds what it references, keeps what the
// PostgreSQL text keeps (same kinds, same guards), and answers its row count.
import { describe, expect, it } from 'vitest';
import { pruneRecordsSql } from '../../src/db/mssql/record-retention-sql';
import { pruneSql } from '../../src/db/postgres/record-retention-sql';
import { recordKinds } from '../../src/db/record-retention';
import { expectParamsConsistent } from './mssql/statement-check';

describe('SQL Server ledger retention statements', () => {
  it.each(recordKinds)('%s: binds @cutoff and @limit, deletes in a TOP batch and selects @@ROWCOUNT', (kind) => {
    const s = pruneRecordsSql(kind, new Date('2020-01-01T00:00:00Z'), 500);
    expectParamsConsistent({ ...s, text: s.text.replace(/@@\w+/g, '') });
    expect(s.params.limit).toEqual({ type: 'int', value: 500 });
    expect(s.text).toMatch(/^DELETE FROM \w+\.\w+ WHERE \w+ IN \(\s*SELECT TOP \(@limit\)/);
    expect(s.text.trimEnd().endsWith('SELECT @@ROWCOUNT AS n;')).toBe(true);
  });

  it('guards the same things as the PostgreSQL text', () => {
    const guards = (text: string) => ({
      keptLoad: (text.match(/status = N?'loading'/g) ?? []).length,
      latestSync: /status = N?'succeeded' ORDER BY applied_at DESC/.test(text),
      files: /delivery_files f/.test(text) && /distribution_runs r/.test(text),
    });
    for (const kind of recordKinds) {
      expect(guards(pruneRecordsSql(kind, new Date(), 1).text), kind).toEqual(guards(pruneSql[kind]));
    }
  });
});
