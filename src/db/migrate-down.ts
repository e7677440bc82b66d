// Rolling migrations back: which applied versions to undo for `--down-to N`, checked before anything runs.
import type { MigrationFile } from './migration-files';

export interface RollbackStep {
  version: number;
  name: string;
  downSql: string;
}

/**
 * The down files to apply, newest first, to bring the schema from `applied` to `target`. Refuses (before any
 * change) when a version to undo has no down file or is unknown to this release.
 */
export function rollbackPlan(applied: number[], known: MigrationFile[], target: number): RollbackStep[] {
  if (!Number.isInteger(target) || target < 0) throw new Error(`--down-to takes a migration number (0 or more), not ${target}`);
  const byVersion = new Map(known.map((m) => [m.version, m]));
  const steps: RollbackStep[] = [];
  for (const version of [...applied].filter((v) => v > target).sort((a, b) => b - a)) {
    const m = byVersion.get(version);
    if (!m) throw new Error(`migration ${version} is applied but this release does not know it; roll back with the release that applied it`);
    if (m.downSql === null) throw new Error(`migration ${pad(version)}_${m.name} has no ${pad(version)}_${m.name}.down.sql; nothing was rolled back`);
    steps.push({ version, name: m.name, downSql: m.downSql });
  }
  return steps;
}

export const pad = (version: number) => String(version).padStart(3, '0');
