// Which invalid-row policy applies to a load: a per-table override, else the folder's (fullload / append) default.
import type { Config } from './config';
import type { LoadMode } from './db/types';

export type InvalidRowPolicy = { mode: 'reject-file' } | { mode: 'quarantine'; maxErrorRatio: number };

export function invalidRowPolicyFor(settings: Config['invalidRows'], table: string, loadType: LoadMode): InvalidRowPolicy {
  const mode = settings.tables[table] ?? settings[loadType];
  return mode === 'quarantine' ? { mode, maxErrorRatio: settings.maxErrorRatio } : { mode: 'reject-file' };
}
