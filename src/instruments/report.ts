// Folds per-(segment, instrument type) counts from the database into a run's report breakdowns.
import type { BreakdownCounts } from './types';

/** Counts of one (segment, instrument_type) pair; the dialects produce these, the report folds them. */
export interface GroupCounts extends Partial<BreakdownCounts> {
  segment: string | null;
  instrumentType: string | null;
}

/** Label for instruments that have no segment or type in the source. */
export const NONE_LABEL = '(none)';

const COUNT_FIELDS: (keyof BreakdownCounts)[] = ['activeBefore', 'activeAfter', 'added', 'updated', 'unchanged', 'reactivated', 'deactivated'];

export function emptyCounts(): BreakdownCounts {
  return { activeBefore: 0, activeAfter: 0, added: 0, updated: 0, unchanged: 0, reactivated: 0, deactivated: 0 };
}

function addInto(target: BreakdownCounts, source: Partial<BreakdownCounts>): void {
  for (const f of COUNT_FIELDS) target[f] += Number(source[f] ?? 0);
}

/** Sums of every count over all groups. */
export function totalsOf(groups: GroupCounts[]): BreakdownCounts {
  const total = emptyCounts();
  for (const g of groups) addInto(total, g);
  return total;
}

/** Per-segment and per-type breakdowns, keys sorted so reports compare and print stably. */
export function breakdownsOf(groups: GroupCounts[]): { bySegment: Record<string, BreakdownCounts>; byType: Record<string, BreakdownCounts> } {
  const bySegment = new Map<string, BreakdownCounts>();
  const byType = new Map<string, BreakdownCounts>();
  for (const g of groups) {
    for (const [map, label] of [[bySegment, g.segment ?? NONE_LABEL], [byType, g.instrumentType ?? NONE_LABEL]] as const) {
      const counts = map.get(label) ?? emptyCounts();
      addInto(counts, g);
      map.set(label, counts);
    }
  }
  const sorted = (m: Map<string, BreakdownCounts>) => Object.fromEntries([...m.entries()].sort(([a], [b]) => a.localeCompare(b)));
  return { bySegment: sorted(bySegment), byType: sorted(byType) };
}

/** One-line summary for logs, the Web UI and the CLI. */
export function summaryLine(r: { added: number | null; updated: number | null; unchanged: number | null; deactivated: number | null; reactivated: number | null; invalid: number; activeAfter: number | null }): string {
  return (
    `${r.added ?? 0} added, ${r.updated ?? 0} updated, ${r.unchanged ?? 0} unchanged, ${r.deactivated ?? 0} deactivated, ` +
    `${r.reactivated ?? 0} reactivated, ${r.invalid} invalid; ${r.activeAfter ?? 0} active`
  );
}
