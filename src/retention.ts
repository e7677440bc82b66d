// Which archived files are past their retention: decided from the timestamp prefix we gave them. Pure.
const STAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z_/;

/** When a file was archived, from its `<yyyymmddThhmmssZ>_` prefix; null for names we did not give. */
export function archivedAt(fileName: string): Date | null {
  const m = STAMP.exec(fileName);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m;
  return new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, +s));
}

/** An archived file (or its `.error.json` report) is expired when it was archived before the cutoff. */
export function isExpired(fileName: string, mtime: Date, cutoff: Date): boolean {
  // rename() keeps the original mtime, which may be far older than the archiving: prefer our own stamp.
  const at = archivedAt(fileName) ?? mtime;
  return at.getTime() < cutoff.getTime();
}
