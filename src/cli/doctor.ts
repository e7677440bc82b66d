// `refdata doctor`: checks Temporal, the database, drop folders, disk, memory and task-queue pollers, Kafka, channels and schedules; says what is wrong and how to fix it.
import { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config';
import { silentLogger } from '../log/logger';
import { openDb, temporalAddressOf } from '../runtime';
import { checkChannels, checkDatabase, checkDropFolders, checkEmbedded, checkHost, checkKafka, checkSchedules, checkTemporal, type CheckResult } from '../doctor/checks';
import { embeddedDataDir } from '../db';
import { embeddedStatus } from '../db/postgres/embedded-server';

export interface DoctorOptions {
  timeoutMs?: number;
}

/** Runs every check; a check that cannot run (its dependency is down) is reported as skipped, not left out. */
export async function runDoctor(config: Config, opts: DoctorOptions = {}): Promise<CheckResult[]> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const results: CheckResult[] = [{ area: 'config', level: 'ok', detail: `valid (${config.databaseKind} database, namespace ${config.temporal.namespace}, drop root ${config.dropoffDir})` }];

  const temporal = await checkTemporal(config, temporalAddressOf(config), timeoutMs);
  results.push(...temporal.results);
  try {
    if (temporal.client) results.push(...(await checkSchedules(config, temporal.client).catch((err: Error) => [failed('schedules', err)])));
    else results.push({ area: 'schedules', level: 'skip', detail: 'not checked: Temporal is not reachable' });
    results.push(...(await checkHost(config, temporal.client).catch((err: Error) => [failed('host', err)])));
  } finally {
    await temporal.close();
  }

  if (config.databaseKind === 'embedded') results.push(...checkEmbedded(embeddedStatus(embeddedDataDir(config))));
  const database = await checkDatabase(() => openDb(config, silentLogger(), false));
  results.push(...database.results);
  results.push(...(await checkDropFolders(config.dropoffDir)));
  results.push(...(await checkKafka(config, timeoutMs)));
  try {
    if (database.db && database.current) results.push(...(await checkChannels(database.db, timeoutMs).catch((err: Error) => [failed('channels', err)])));
    else results.push({ area: 'channels', level: 'skip', detail: `not checked: the database is ${database.db ? 'not migrated' : 'not available'}` });
  } finally {
    await database.db?.close();
  }
  return results;
}

function failed(area: string, err: Error): CheckResult {
  return { area, level: 'fail', detail: `the check itself failed: ${err.message}`, fix: 'run again with LOG_LEVEL=debug; if it persists, it is a bug in refdata doctor' };
}

const marks: Record<CheckResult['level'], string> = { ok: '✔', warn: '!', fail: '✘', skip: '-' };

export function formatReport(results: CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.area.length));
  const lines = results.flatMap((r) => {
    const head = `${marks[r.level]} ${r.area.padEnd(width)}  ${r.detail}`;
    return r.fix ? [head, `  ${' '.repeat(width)}  fix: ${r.fix}`] : [head];
  });
  const problems = results.filter((r) => r.level === 'fail').length;
  const warnings = results.filter((r) => r.level === 'warn').length;
  const summary = problems
    ? `${problems} problem${problems > 1 ? 's' : ''}${warnings ? `, ${warnings} warning${warnings > 1 ? 's' : ''}` : ''}: fix the lines marked ✘`
    : warnings ? `no problems, ${warnings} warning${warnings > 1 ? 's' : ''}` : 'everything checked is healthy';
  return `${lines.join('\n')}\n\n${summary}\n`;
}

/** Exit code: 0 healthy (warnings allowed unless --strict), 1 problems. */
export function exitCodeOf(results: CheckResult[], strict = false): number {
  return results.some((r) => r.level === 'fail' || (strict && r.level === 'warn')) ? 1 : 0;
}

export function doctorCommand(): Command {
  return new Command('doctor')
    .description('check Temporal, the database, drop folders, disk space, task-queue pollers, Kafka, channels and schedules; print what is wrong and how to fix it')
    .option('--json', 'print the results as JSON')
    .option('--strict', 'treat warnings as problems (non-zero exit)')
    .option('--timeout <ms>', 'per network check', (v) => Number.parseInt(v, 10), 5000)
    .action(async (opts: { json?: boolean; strict?: boolean; timeout: number }) => {
      let config: Config;
      try {
        config = loadConfig();
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        const results: CheckResult[] = err.problems.map((p) => ({ area: 'config', level: 'fail', detail: p, fix: 'correct this environment variable (README: configuration)' }));
        process.stdout.write(opts.json ? `${JSON.stringify(results, null, 2)}\n` : formatReport(results));
        process.exitCode = 1;
        return;
      }
      const results = await runDoctor(config, { timeoutMs: opts.timeout });
      process.stdout.write(opts.json ? `${JSON.stringify(results, null, 2)}\n` : formatReport(results));
      process.exitCode = exitCodeOf(results, opts.strict);
    });
}
