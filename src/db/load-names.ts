// Names of the tables a load creates (shadow, backup), shared by both dialects so they stay within 63 characters.
import type { TableRef } from './types';

/**
 * The distinctive start of a load id. Our ids are `load_<uuid>`: the shared prefix is left out, or two concurrent
 * fullloads of one table whose run ids begin alike would share a shadow (and the second drop the first's).
 */
function shortId(loadId: string): string {
  return loadId.replace(/^(rv)?load_/i, '$1').replace(/[^a-z0-9]/gi, '').slice(0, 8).toLowerCase();
}

export function shadowTableOf(target: TableRef, loadId: string): TableRef {
  return { schema: target.schema, name: `${target.name.slice(0, 40)}__shadow_${shortId(loadId)}` };
}

/** `bkp.<table>__<yyyymmddhhmmss>_<load>`: the load id keeps two swaps in one second apart. */
export function backupTableOf(target: TableRef, loadId: string, at: Date): TableRef {
  const stamp = at.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return { schema: 'bkp', name: `${target.name.slice(0, 40)}__${stamp}_${shortId(loadId).slice(0, 6)}` };
}

/** Tables refdata owns; a dropped file may never load into one of them. */
export const reservedTables = new Set([
  'file_monitor_tracking',
  'reference_data_cfg',
  'loads',
  'invalid_records',
  'schema_migrations',
  'instruments',
  'instrument_sync_runs',
]);

export function isReservedTable(name: string): boolean {
  return reservedTables.has(name);
}
