// Whether a file's run can still be cancelled, from the phase its progress query reports. Once finishing starts a run
// goes to its end (its rows are being made visible, or are), so a cancel then would only be answered "cancelling" and
// the file would end loaded: the caller is told so instead, and pointed at the revert that does undo a load.
import type { Phase } from '../workflows/file-lifecycle';

export interface CancelRefusal {
  code: 'TOO_LATE' | 'ALREADY_UNDOING';
  message: string;
}

/** Null when a cancel can still stop the run; otherwise why not. */
export function cancelRefusal(id: number, phase: Phase | null, loadId: string | null): CancelRefusal | null {
  if (phase === 'finishing' || phase === 'archiving' || phase === 'done') {
    const revert = loadId ? `; to take its rows out, revert the load (POST /api/v1/loads/${loadId}/revert) once it ends` : '';
    return { code: 'TOO_LATE', message: `file ${id} is ${phase === 'done' ? 'done' : phase}: a run that has started finishing goes to its end and cannot be cancelled${revert}` };
  }
  if (phase === 'compensating') return { code: 'ALREADY_UNDOING', message: `file ${id} is already being undone (compensating): its rows are being removed and the file moved to error/` };
  return null;
}
