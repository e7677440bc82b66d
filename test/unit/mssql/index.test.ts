// Opening the SQL Server dialect: a clear refusal when the server is unreachable, and the contract-suite hook.
import { describe, expect, it } from 'vitest';
import { createMssqlDatabase, mssqlContractTarget } from '../../../src/db/mssql';

describe('createMssqlDatabase', () => {
  it('says which server it could not reach, without the password', async () => {
    const error = await createMssqlDatabase('mssql://sa:hunter2@127.0.0.1:1/refdata?connectionTimeout=2000').catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^could not connect to SQL Server at 127\.0\.0\.1:1\/refdata/);
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('refuses a malformed URL before connecting', async () => {
    await expect(createMssqlDatabase('mssql://h/db?nope=1')).rejects.toThrow(/option nope is not supported/);
  });
});

describe('mssqlContractTarget', () => {
  it('is skipped without MSSQL_URL and runs with it', () => {
    expect(mssqlContractTarget({}).skip).toBe(true);
    expect(mssqlContractTarget({ MSSQL_URL: 'mssql://u:p@h/db' })).toMatchObject({ name: 'mssql', skip: false });
  });

  it('refuses to open without a URL', async () => {
    await expect(mssqlContractTarget({}).open()).rejects.toThrow(/MSSQL_URL is not set/);
  });
});
