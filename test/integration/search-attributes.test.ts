// A dev server whose database predates some of refdata's search attributes (an upgraded install) — real dev server,
// started here on a database created without two of them: schedules are refused until `ensureSearchAttributes` adds
// them, as `refdata dev` now does at start.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../../src/config';
import { searchAttributeTypes } from '../../src/ids';
import { resolveTemporalCli } from '../../src/temporal/cli-path';
import { findFreePort, startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { applySchedules, scheduleSpecs } from '../../src/temporal/schedules';
import { ensureSearchAttributes, readSearchAttributeGaps, searchAttributeGaps } from '../../src/temporal/search-attributes';
import { failureMessage } from '../../src/cli/failure-message';

const older = Object.keys(searchAttributeTypes).filter((n) => n !== 'SyncTrigger' && n !== 'Channel');
let dir: string;
let server: DevServer;
let connection: Connection;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'refdata-search-attributes-'));
  server = await startDevServer({
    cliPath: resolveTemporalCli(), port: await findFreePort(), headless: true, dbFilename: path.join(dir, 'temporal.db'),
    searchAttributeArgs: older.flatMap((n) => ['--search-attribute', `${n}=Keyword`]),
  });
  connection = await Connection.connect({ address: server.address });
});

afterAll(async () => {
  await connection?.close();
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('search attributes missing from an older dev-server database', () => {
  it('refuse the schedules with the reason, until the missing ones are registered; registering twice adds nothing', async () => {
    const client = new Client({ connection });
    const specs = scheduleSpecs(loadConfig({}));
    expect(await readSearchAttributeGaps(connection, 'default')).toEqual({ missing: ['Channel', 'SyncTrigger'], wrongType: [] });
    const refused = await applySchedules(client, specs).then(() => null, (err: unknown) => err);
    expect(failureMessage(refused)).toMatch(/no mapping defined for search attribute (SyncTrigger|Channel)/);

    expect(await ensureSearchAttributes(connection, 'default')).toEqual(['Channel', 'SyncTrigger']);
    expect(await readSearchAttributeGaps(connection, 'default')).toEqual({ missing: [], wrongType: [] });
    expect(await ensureSearchAttributes(connection, 'default')).toEqual([]);
    const applied = await applySchedules(client, specs);
    expect(applied.map((s) => s.scheduleId).sort()).toEqual(specs.map((s) => s.scheduleId).sort());
  });
});

describe('searchAttributeGaps', () => {
  it('names the missing and the ones of another type', () => {
    const registered: Record<string, number> = Object.fromEntries(Object.keys(searchAttributeTypes).map((n) => [n, 2])); // 2 = Keyword
    delete registered.FilePath;
    registered.TableName = 1; // Text
    expect(searchAttributeGaps(registered)).toEqual({ missing: ['FilePath'], wrongType: ['TableName'] });
  });
});
