// Reads `--since` for the CLI: a duration back from now (90s, 30m, 24h, 7d) or an ISO date/time.

const units: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseSince(text: string, now: Date = new Date()): Date {
  const m = /^(\d+(?:\.\d+)?)\s*([smhd])$/i.exec(text.trim());
  if (m) return new Date(now.getTime() - Number(m[1]) * units[m[2].toLowerCase()]);
  const at = Date.parse(text);
  if (!Number.isNaN(at) && /^\d{4}-\d{2}-\d{2}/.test(text.trim())) return new Date(at);
  throw new Error(`--since ${JSON.stringify(text)}: give a duration like 30m, 24h, 7d, or an ISO time like 2025-06-21T10:00:00Z`);
}
