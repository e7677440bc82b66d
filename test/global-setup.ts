// vitest globalSetup: one Temporal dev server (a namespace per test file), one workflow bundle and one PostgreSQL (embedded, or REFDATA_TEST_PG_URL) for the whole run, handed to tests via inject().
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import { Client } from 'pg';
import type { TestProject } from 'vitest/node';
import { devServerSearchAttributeArgs } from '../src/ids';
import { resolveTemporalCli } from '../src/temporal/cli-path';
import { findFreePort, startDevServer, type DevServer } from '../src/temporal/dev-server';
import { babelfishForRun } from './support/babelfish';
import { namespaceForTestFile } from './support/namespaces';
import { makeTempDir } from './support/temp';
import { startTestPostgres, type TestPostgres } from './support/test-postgres';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // PostgreSQL first: a server that cannot start or be reached fails the run before Temporal starts.
  const pg = await startTestPostgres();
  let pgUrl: string;
  try {
    pgUrl = await checkPostgres(pg);
  } catch (err) {
    await pg.stop();
    throw err;
  }

  const cliPath = resolveTemporalCli();
  // Created at start-up: a namespace registered later takes seconds to become visible to the frontend.
  const { testFiles } = await project.globTestFiles();
  const namespaces = testFiles.map(namespaceForTestFile);
  const dir = await makeTempDir('refdata-temporal-');
  // Under the project root (gitignored .refdata/) so the server's log outlives the run when a test needs explaining.
  const logDir = join(project.config.root, '.refdata');
  await mkdir(logDir, { recursive: true });
  const logFile = join(logDir, `test-temporal${project.name ? `-${project.name}` : ''}.log`);
  await writeFile(logFile, ''); // one run's log, not every run's
  const bundling = bundleWorkflows(project.config.root, dir.path);
  // SQL Server for the mssql targets (Babelfish, when built): MSSQL_URL for the test files, stopped after the run.
  const stopBabelfish = await babelfishForRun(testFiles).catch(async (err: unknown) => {
    await bundling;
    await dir.cleanup();
    throw err;
  });
  let server: DevServer;
  try {
    server = await startDevServer({
      cliPath,
      port: await findFreePort(),
      headless: true,
      namespaces,
      dbFilename: join(dir.path, 'temporal.sqlite'),
      searchAttributeArgs: devServerSearchAttributeArgs(),
      logFile,
    });
  } catch (err) {
    await bundling;
    await stopBabelfish();
    await dir.cleanup();
    await pg.stop();
    throw err;
  }

  project.provide('temporalAddress', server.address);
  project.provide('pgUrl', pgUrl);
  project.provide('workflowBundlePath', await bundling);

  return async () => {
    await server.stop();
    await stopBabelfish();
    await dir.cleanup();
    await pg.stop();
  };
}

/**
 * Bundles workflows/ once for the run, so each test's Worker skips its own webpack build (seconds each).
 * On failure tests get '' and fall back to workflowsPath, where the same error fails only the tests that need it.
 */
async function bundleWorkflows(root: string, dir: string): Promise<string> {
  try {
    const { code } = await bundleWorkflowCode({
      workflowsPath: join(root, 'workflows'),
      logger: new DefaultLogger('WARN'),
    });
    const path = join(dir, 'workflow-bundle.js');
    await writeFile(path, code);
    return path;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    process.stderr.write(`global-setup: bundling workflows/ failed; Temporal tests will bundle on their own: ${reason}\n`);
    return '';
  }
}

async function checkPostgres(pg: TestPostgres): Promise<string> {
  const url = pg.url;
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `Cannot connect to the test PostgreSQL at ${redactPassword(url)} (${pg.source}): ${reason}. ` +
        (pg.source === 'embedded' ? 'The embedded server started but does not answer; see its log above.' : 'Fix REFDATA_TEST_PG_URL (a role that may CREATE DATABASE), or unset it to use an embedded server.'),
    );
  } finally {
    await client.end().catch(() => undefined);
  }
  return url;
}

function redactPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
