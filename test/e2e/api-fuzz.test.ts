// The property-based API fuzzer (Schemathesis, installed by scripts/ensure-tools) against the served OpenAPI document
// of the running server with a real database and Temporal: with the admin key and without one, every check on, each
// run bounded by --max-time. A failure fails the test with Schemathesis's own report.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readToolsEnv } from '../../src/temporal/cli-path';
import { makeTempDir, type TempDir } from '../support/temp';
import { startSystem, type System } from './harness';

const run = promisify(execFile);
const st = process.env.SCHEMATHESIS || readToolsEnv(process.env).SCHEMATHESIS || '';
// Runs in every test run; REFDATA_SKIP_SCHEMATHESIS=1 (ensure-tools then installs nothing) skips it, saying why.
const skip = process.env.REFDATA_SKIP_SCHEMATHESIS === '1'
  ? 'REFDATA_SKIP_SCHEMATHESIS=1'
  : st === '' || !fs.existsSync(st) ? 'Schemathesis is not installed: run scripts/ensure-tools --for test (or unset REFDATA_SKIP_SCHEMATHESIS)' : null;
/** Seconds each run may take: the two runs stay within about two minutes together. */
const MAX_TIME = Number(process.env.REFDATA_FUZZ_SECONDS ?? 50);

let sys: System;
let temp: TempDir;
let base = '';
let schemaFile = '';
let configFile = '';

/**
 * Schemathesis's own list of answers that reject invalid data, plus 413: a generated value far past a maxLength can
 * make the whole body larger than REFDATA_BODY_MAX_BYTES, and "too large" is the right refusal of that request.
 */
const CONFIG = `[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
`;

/**
 * Findings accepted for now, one file per run (Schemathesis's own baseline format): each is listed in the report of
 * issue 13's branch with why it stays. A finding not in the baseline fails the test. REFDATA_FUZZ_BASELINE_UPDATE=1
 * merges this run's findings into the file instead (review the diff before committing it).
 */
const baselineOf = (name: string) => path.join(__dirname, 'fuzz', `${name}.baseline`);

async function fuzzOnce(name: string, headers: string[]): Promise<{ code: number; report: string }> {
  const baseline = baselineOf(name);
  if (!fs.existsSync(baseline)) fs.writeFileSync(baseline, '{"format_version":1,"entries":[]}\n');
  const args = [
    '--config-file', configFile, 'run', schemaFile, '--baseline', baseline, ...(process.env.REFDATA_FUZZ_BASELINE_UPDATE === '1' ? ['--baseline-update'] : []), '--url', base, '--checks', 'all', '--max-time', String(MAX_TIME), '--workers', '2', '--seed', '13',
    '--suppress-health-check', 'too_slow,filter_too_much', '--no-color', ...headers.flatMap((h) => ['--header', h]),
  ];
  try {
    const { stdout, stderr } = await run(st, args, { cwd: temp.path, maxBuffer: 64 * 1024 * 1024, timeout: (MAX_TIME + 120) * 1000, env: { ...process.env, NO_COLOR: '1' } });
    return { code: 0, report: `${stdout}\n${stderr}` };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, report: `${e.stdout ?? ''}\n${e.stderr ?? ''}` };
  }
}

/**
 * Schemathesis 4.32.5 now and then stops on an error inside Hypothesis itself ("AST constructor recursion depth
 * mismatch"), which says nothing about our API: that run, and only that, is tried once more.
 */
async function fuzz(name: string, headers: string[]): Promise<{ code: number; report: string }> {
  const first = await fuzzOnce(name, headers);
  if (first.code === 0 || !/recursion depth mismatch/i.test(first.report)) return first;
  return fuzzOnce(name, headers);
}

describe.skipIf(skip !== null)(`the API fuzzer${skip ? ` (skipped: ${skip})` : ''}`, () => {
  beforeAll(async () => {
    // The limiter has tests of its own; here it would turn the no-key run's requests into 429s after 1,200.
    sys = await startSystem({ testFile: __filename, database: 'postgres', rateLimit: { max: 1_000_000, windowMs: 60_000 } });
    await sys.api.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(sys.api.server.address() as AddressInfo).port}`;
    temp = await makeTempDir('refdata-fuzz-');
    // The document as served (it needs a key too), saved for Schemathesis.
    const doc = await fetch(`${base}/docs/json`, { headers: { authorization: `Bearer ${sys.adminKey}` } });
    expect(doc.status).toBe(200);
    configFile = path.join(temp.path, 'schemathesis.toml');
    fs.writeFileSync(configFile, CONFIG);
    schemaFile = path.join(temp.path, 'openapi.json');
    fs.writeFileSync(schemaFile, await doc.text());
  }, 120_000);
  afterAll(async () => {
    await sys?.stop();
    await temp?.cleanup();
  });

  it('finds nothing with the admin key', async () => {
    const { code, report } = await fuzz('admin-key', [`Authorization: Bearer ${sys.adminKey}`]);
    expect(code, report).toBe(0);
  }, (MAX_TIME + 180) * 1000);

  it('finds nothing without a key (every operation refuses, and says so as documented)', async () => {
    const { code, report } = await fuzz('no-key', []);
    expect(code, report).toBe(0);
  }, (MAX_TIME + 180) * 1000);
});
