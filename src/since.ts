// `--since` and the `since` parameters: a duration back from now (90s, 30m, 24h, 7d, 2w) or an ISO date / date-time.
// One reader for the CLI and the API, so the same text means the same moment everywhere.

export class SinceError extends Error {
  constructor(text: string) {
    super(`--since ${JSON.stringify(text)}: give a duration like 90s, 30m, 24h, 7d, 2w, or an ISO date or time such as 2025-01-31 or 2025-06-21T10:00:00Z`);
    this.name = 'SinceError';
  }
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

export function parseSince(text: string, now: Date = new Date()): Date {
  const t = text.trim();
  const rel = /^(\d{1,6}(?:\.\d+)?)\s?([smhdw])$/i.exec(t);
  if (rel) return new Date(now.getTime() - Number(rel[1]) * UNIT_MS[rel[2]!.toLowerCase()]!);
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) {
    const at = new Date(t);
    if (!Number.isNaN(at.getTime())) return at;
  }
  throw new SinceError(text);
}
