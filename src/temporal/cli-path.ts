// Finds the `temporal` CLI binary that scripts/ensure-tools provided, so the dev server and tests need no configuration.
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** Directory where scripts/ensure-tools keeps bin/temporal and tools.env. */
export function toolsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.REFDATA_TOOLS_DIR || join(homedir(), '.cache', 'refdata');
}

/** KEY=VALUE lines of `<tools dir>/tools.env`; empty when ensure-tools has not run yet. */
export function readToolsEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(join(toolsDir(env), 'tools.env'), 'utf8');
  } catch {
    return {};
  }
  const values: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) values[match[1]] = match[2];
  }
  return values;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile(); // directories pass X_OK too
  } catch {
    return false;
  }
}

function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/**
 * Path of the `temporal` CLI: $TEMPORAL_CLI, then tools.env, then the ensure-tools cache, then PATH.
 * Throws telling the operator to run scripts/ensure-tools when none is found.
 */
export function resolveTemporalCli(env: NodeJS.ProcessEnv = process.env): string {
  // A broken TEMPORAL_CLI falls through, as in scripts/ensure-tools (which warns about it), so both pick the same binary.
  if (env.TEMPORAL_CLI && isExecutable(env.TEMPORAL_CLI)) return env.TEMPORAL_CLI;
  const recorded = readToolsEnv(env).TEMPORAL_CLI;
  if (recorded && isExecutable(recorded)) return recorded;
  const cached = join(toolsDir(env), 'bin', 'temporal');
  if (isExecutable(cached)) return cached;
  const onPath = findOnPath('temporal', env);
  if (onPath) return onPath;
  const broken = env.TEMPORAL_CLI ? ` (TEMPORAL_CLI=${env.TEMPORAL_CLI} is not an executable file)` : '';
  throw new Error(
    `The Temporal CLI (\`temporal\`) was not found${broken}. Run scripts/ensure-tools (npm test and npm start do), ` +
      'or set TEMPORAL_CLI=/path/to/temporal.',
  );
}
