// The nearest-rank percentile, written out independently of the SQL the charts use, to check its answers.

/** The value at rank ceil(p × n) of the sorted values; null for none. */
export function nearestRank(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1]!;
}
