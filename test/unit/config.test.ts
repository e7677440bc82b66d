// The configuration module: defaults, validation errors, and the README table kept equal to it.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configTableMarkdown, configVariables, loadConfig, settingDocs } from '../../src/config';

describe('config', () => {
  it('has local defaults with nothing set', () => {
    const c = loadConfig({});
    expect(c.databaseKind).toBe('embedded');
    expect(c.api.port).toBe(3000);
    expect(c.stability).toEqual({ checks: 6, intervalMs: 15000, maxWaitMs: 21_600_000 });
    expect(c.dropoffDir).toBe(path.resolve('./dropoff'));
    expect(c.temporal.address).toBeUndefined();
  });

  it('recognises the database kind from the URL', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db' }).databaseKind).toBe('postgres');
    expect(loadConfig({ DATABASE_URL: 'mssql://u:p@h/db' }).databaseKind).toBe('mssql');
    expect(loadConfig({ DATABASE_URL: 'sqlserver://u:p@h/db' }).databaseKind).toBe('mssql');
  });

  it('names every invalid variable and why', () => {
    try {
      loadConfig({ DATABASE_URL: 'mysql://x', REFDATA_API_PORT: 'eighty', REFDATA_ADMIN_KEY: 'short' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as Error).message;
      expect(msg).toMatch(/DATABASE_URL/);
      expect(msg).toMatch(/REFDATA_API_PORT/);
      expect(msg).toMatch(/REFDATA_ADMIN_KEY: must be at least 16/);
    }
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', REFDATA_API_PORT: '' }).api.port).toBe(3000);
  });

  it('documents every variable it reads, and the README table matches', () => {
    expect(settingDocs.map((d) => d.name).sort()).toEqual([...configVariables].sort());
    const readme = fs.readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
    const table = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme)?.[1];
    expect(table).toBe(configTableMarkdown());
  });
});
