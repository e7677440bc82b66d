// Load history and undo, shared by the API and the CLI.
import type { Database, LoadRecord } from './db/types';

export interface LoadView {
  loadId: string;
  table: string;
  mode: string;
  status: string;
  filePath: string;
  fileHash: string | null;
  /** Rows written into the table. */
  rows: number;
  /** Rows set aside in ref.invalid_records (quarantine policy); not in `rows`. */
  quarantined: number;
  batches: number;
  backup: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export function toLoadView(l: LoadRecord): LoadView {
  return {
    loadId: l.loadId,
    table: `${l.target.schema}.${l.target.name}`,
    mode: l.mode,
    status: l.status,
    filePath: l.filePath,
    fileHash: l.fileHash,
    rows: l.rowsCommitted,
    quarantined: l.rowsQuarantined,
    batches: l.batches,
    backup: l.backup ? `${l.backup.schema}.${l.backup.name}` : null,
    startedAt: l.startedAt.toISOString(),
    finishedAt: l.finishedAt ? l.finishedAt.toISOString() : null,
  };
}

/** Reverts a finished load, saying plainly why when it cannot. */
export async function revertLoad(db: Database, loadId: string): Promise<LoadView> {
  const load = await db.getLoad(loadId);
  if (!load) throw new LoadNotFound(loadId);
  return toLoadView(await db.revertLoad(loadId));
}

export class LoadNotFound extends Error {
  constructor(loadId: string) {
    super(`no load with id ${loadId}`);
    this.name = 'LoadNotFound';
  }
}
