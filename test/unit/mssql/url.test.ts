// SQL Server connection URLs: both schemes, credentials, TLS options, and refusals that never echo a password.
import { describe, expect, it } from 'vitest';
import { DEFAULT_REQUEST_TIMEOUT_MS, parseMssqlUrl } from '../../../src/db/mssql/url';

describe('parseMssqlUrl', () => {
  it('reads user, password, host, port, database and TLS options', () => {
    const c = parseMssqlUrl('mssql://sa:p%40ss%3Aw0rd@db.example:14330/refdata?encrypt=true&trustServerCertificate=true');
    expect(c).toMatchObject({
      server: 'db.example', port: 14330, user: 'sa', password: 'p@ss:w0rd', database: 'refdata', requestTimeout: DEFAULT_REQUEST_TIMEOUT_MS,
      options: { encrypt: true, trustServerCertificate: true, useUTC: true, appName: 'refdata' },
    });
  });

  it('accepts sqlserver:// the same way, with defaults port 1433, encrypt on, certificate checked', () => {
    const c = parseMssqlUrl('sqlserver://u:p@localhost/db');
    expect(c).toMatchObject({ server: 'localhost', port: 1433, database: 'db', options: { encrypt: true, trustServerCertificate: false } });
  });

  it('supports a named instance (no default port), timeouts and pool size', () => {
    const c = parseMssqlUrl('mssql://u:p@host/db?instanceName=SQLEXPRESS&requestTimeout=5000&connectionTimeout=2000&poolMax=4&encrypt=false');
    expect(c.port).toBeUndefined();
    expect(c.options).toMatchObject({ instanceName: 'SQLEXPRESS', encrypt: false });
    expect(c).toMatchObject({ requestTimeout: 5000, connectionTimeout: 2000, pool: { max: 4 } });
  });

  it('leaves credentials and database unset when absent', () => {
    const c = parseMssqlUrl('mssql://host');
    expect([c.user, c.password, c.database]).toEqual([undefined, undefined, undefined]);
  });

  it.each([
    ['postgres://u:secret@h/db', /must start with mssql/],
    ['mssql://u:secret@h/db?encrypt=maybe', /encrypt must be true or false/],
    ['mssql://u:secret@h/db?bogus=1', /option bogus is not supported/],
    ['mssql://u:secret@h/db/extra', /just the database name/],
    ['mssql://u:secret@h/db?poolMax=-1', /poolMax must be a non-negative integer/],
    ['mssql://u:secret@:1433/db', /not a valid URL|no host/],
  ])('refuses %s without revealing the password', (url, message) => {
    let error: Error | undefined;
    try {
      parseMssqlUrl(url);
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toMatch(message);
    expect(error?.message).not.toContain('secret');
  });
});
