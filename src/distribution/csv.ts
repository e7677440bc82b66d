// CSV text exactly as PostgreSQL's `COPY … (FORMAT csv)` prints it, for the dialect that formats rows itself
// (SQL Server), so a file has the same bytes whichever path wrote it.

const NEEDS_QUOTES = /[",\r\n]/;

/** NULL → empty; the empty string → `""` (so the two stay apart); quotes, commas and line breaks → quoted. */
export function csvField(value: string | null): string {
  if (value === null) return '';
  if (value === '' || NEEDS_QUOTES.test(value)) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

export function csvLine(values: readonly (string | null)[]): string {
  return `${values.map(csvField).join(',')}\n`;
}

/** `18000.000000` → `18000`, `0.050000` → `0.05` (PostgreSQL's trim_scale), for dialects that print the full scale. */
export function trimDecimal(value: string | null): string | null {
  if (value === null || !value.includes('.')) return value;
  const trimmed = value.replace(/0+$/, '');
  return trimmed.endsWith('.') ? trimmed.slice(0, -1) : trimmed;
}
