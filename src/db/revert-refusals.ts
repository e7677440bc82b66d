// Why a finished load cannot be reverted, in the words both dialects use (the API answers them with 409).
import type { LoadRecord } from './types';

/**
 * Why a load cannot be reverted because a later fullload replaced the table it went into: undoing it would change
 * nothing in the live table (append) or bring back a table the later fullload replaced (fullload).
 */
export function revertRefusedByFullload(load: Pick<LoadRecord, 'loadId' | 'mode' | 'target'>, laterFullload: string): string {
  const table = `${load.target.schema}.${load.target.name}`;
  return load.mode === 'append'
    ? `load ${load.loadId} cannot be reverted: the later fullload ${laterFullload} replaced ${table}, so its rows are not in the live table; revert ${laterFullload} first`
    : `load ${load.loadId} was replaced by a later fullload (${laterFullload}) of ${table}; revert that one first`;
}

/**
 * Why a fullload cannot be reverted while appends stand on it: their rows would leave the live table with it while
 * their loads stayed `loaded` (and their files counted as duplicates). Reverting them is left to the operator, in
 * the order given, so nothing is undone that was not asked for.
 */
export function revertRefusedByAppends(load: Pick<LoadRecord, 'loadId' | 'target'>, appendsNewestFirst: string[]): string {
  return `load ${load.loadId} cannot be reverted: ${appendsNewestFirst.length === 1 ? 'the append' : `${appendsNewestFirst.length} appends`} ` +
    `${appendsNewestFirst.join(', ')} loaded into ${load.target.schema}.${load.target.name} after it; revert ${appendsNewestFirst.length === 1 ? 'it' : 'them, in that order (newest first),'} first`;
}
