// Error analysis shared by `refdata errors` and GET /api/v1/errors/summary: failures of a period grouped by
// category, table and folder, from the tracking ledger and the `<name>.error.json` reports beside files in error/.
//
// Both sources are needed: the ledger keeps one row per file path (a file dropped again overwrites it), while every
// failure leaves its own report (until retention removes it). A report is one failure; a ledger row whose path
// has no report in the period (the report was removed, or the file could not be archived) counts once more.
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Database } from './db/types';
import type { FailureRecord } from './db/failures';
import { MAX_FAILURES } from './db/failures';
import { classifyPath, dataKinds, loadModes } from './drop-folders';
import { deriveTableName } from './csv/table-name';

/** Category shown for a failure recorded before categories were stored and without a report. */
export const UNCATEGORIZED = 'Uncategorized';

export { SinceError, parseSince } from './since';

export interface ErrorReportInfo {
  reportPath: string;
  originalPath: string;
  category: string;
  message: string;
  code: string | null;
  workflowId: string | null;
  time: Date;
}

const reportSchema = z.object({
  originalPath: z.string(),
  category: z.string(),
  message: z.string(),
  details: z.unknown().optional(),
  workflowId: z.string().nullish(),
  time: z.string(),
});

async function readReport(reportPath: string): Promise<ErrorReportInfo | null> {
  try {
    const r = reportSchema.parse(JSON.parse(await fs.readFile(reportPath, 'utf8')));
    const details = r.details as { code?: unknown } | null | undefined;
    const time = new Date(r.time);
    if (Number.isNaN(time.getTime())) return null;
    return {
      reportPath, originalPath: r.originalPath, category: r.category, message: r.message, workflowId: r.workflowId ?? null, time,
      code: typeof details?.code === 'string' ? details.code : null,
    };
  } catch {
    return null; // half-written or hand-edited: not evidence of anything
  }
}

/** Error reports written at or after `since`, newest first (at most `limit`); missing folders are simply empty. */
export async function readErrorReports(dropRoot: string, since: Date, limit = MAX_FAILURES): Promise<ErrorReportInfo[]> {
  const candidates: { file: string; mtime: number }[] = [];
  for (const kind of dataKinds) {
    for (const mode of loadModes) {
      const dir = path.join(dropRoot, kind, mode, 'error');
      const names = await fs.readdir(dir).catch(() => [] as string[]);
      for (const name of names.filter((n) => n.endsWith('.error.json'))) {
        const st = await fs.stat(path.join(dir, name)).catch(() => null);
        if (st?.isFile() && st.mtimeMs >= since.getTime()) candidates.push({ file: path.join(dir, name), mtime: st.mtimeMs });
      }
    }
  }
  candidates.sort((a, b) => b.mtime - a.mtime);
  const out: ErrorReportInfo[] = [];
  for (const c of candidates.slice(0, limit)) {
    const r = await readReport(c.file);
    if (r && r.time >= since) out.push(r);
  }
  return out;
}

/**
 * The category to store with a file's outcome: the failure type when the workflow passes it, else the one the
 * error report written just before names (the workflow writes the report, then records the outcome); null
 * for a file that did not fail, so a file dropped again and loaded sheds its old category.
 */
export async function outcomeCategory(input: { status: string; errorType?: string; archivedTo: string | null }): Promise<string | null> {
  if (input.status !== 'error' && input.status !== 'cancelled') return null;
  if (input.errorType) return input.errorType;
  if (input.status === 'cancelled') return 'Cancelled';
  return input.archivedTo ? ((await readReport(`${input.archivedTo}.error.json`))?.category ?? null) : null;
}

export interface FailureGroup {
  category: string;
  table: string | null;
  /** The input folder, e.g. `reference_data_table/fullload`. */
  folder: string | null;
  count: number;
  firstSeen: string;
  lastSeen: string;
  /** Detail codes of the group's reports (RAGGED_ROWS, 22P02, …) with their counts. */
  codes: Record<string, number>;
  /** The most recent failure of the group. */
  example: { file: string; filePath: string; message: string; reportPath: string | null; workflowId: string | null };
}

export interface ErrorSummary {
  since: string;
  until: string;
  total: number;
  /** True when the period held more failures than one summary reads. */
  truncated: boolean;
  byCategory: { category: string; count: number }[];
  groups: FailureGroup[];
}

interface FailureEvent {
  category: string;
  table: string | null;
  folder: string | null;
  time: Date;
  filePath: string;
  message: string;
  code: string | null;
  reportPath: string | null;
  workflowId: string | null;
}

/** The ledger's table; a file that failed before it was planned has none, so its name says which it would be. */
function tableOf(filePath: string, row?: FailureRecord): string | null {
  if (row?.tableName) return row.tableName;
  try {
    return deriveTableName(path.basename(filePath));
  } catch {
    return null;
  }
}

function folderOf(dropRoot: string, filePath: string, row?: FailureRecord): string | null {
  const c = classifyPath(dropRoot, filePath);
  if (c.kind === 'input') return `${c.referenceData ? 'reference_data_table' : 'none_reference_data_table'}/${c.loadType}`;
  if (row?.loadType && row.isReferenceData !== null) return `${row.isReferenceData ? 'reference_data_table' : 'none_reference_data_table'}/${row.loadType}`;
  return null;
}

/** Pure: one event per report, plus one per ledger row without a report; grouped, counted and ordered. */
export function summarizeFailures(
  rows: FailureRecord[], reports: ErrorReportInfo[], opts: { dropRoot: string; since: Date; until: Date; truncated: boolean },
): ErrorSummary {
  const rowOf = new Map(rows.map((r) => [r.filePath, r]));
  const reported = new Set(reports.map((r) => r.originalPath));
  const events: FailureEvent[] = [
    ...reports.map((r) => {
      const row = rowOf.get(r.originalPath);
      return {
        category: r.category, table: tableOf(r.originalPath, row), folder: folderOf(opts.dropRoot, r.originalPath, row), time: r.time, filePath: r.originalPath,
        message: r.message, code: r.code, reportPath: r.reportPath, workflowId: r.workflowId ?? row?.workflowId ?? null,
      };
    }),
    ...rows.filter((r) => !reported.has(r.filePath)).map((r) => ({
      category: r.category ?? UNCATEGORIZED, table: tableOf(r.filePath, r), folder: folderOf(opts.dropRoot, r.filePath, r), time: r.failedAt, filePath: r.filePath,
      message: r.errorMessage ?? '', code: null, reportPath: null, workflowId: r.workflowId,
    })),
  ].sort((a, b) => b.time.getTime() - a.time.getTime());

  const groups = new Map<string, FailureGroup>();
  const byCategory = new Map<string, number>();
  for (const e of events) {
    byCategory.set(e.category, (byCategory.get(e.category) ?? 0) + 1);
    const key = JSON.stringify([e.category, e.table, e.folder]);
    let g = groups.get(key);
    if (!g) {
      // Events are newest first, so the first of a group is its example and its last seen.
      g = {
        category: e.category, table: e.table, folder: e.folder, count: 0, firstSeen: e.time.toISOString(), lastSeen: e.time.toISOString(), codes: {},
        example: { file: path.basename(e.filePath), filePath: e.filePath, message: e.message, reportPath: e.reportPath, workflowId: e.workflowId },
      };
      groups.set(key, g);
    }
    g.count++;
    g.firstSeen = e.time.toISOString();
    if (e.code) g.codes[e.code] = (g.codes[e.code] ?? 0) + 1;
  }
  return {
    since: opts.since.toISOString(),
    until: opts.until.toISOString(),
    total: events.length,
    truncated: opts.truncated,
    byCategory: [...byCategory].map(([category, count]) => ({ category, count })).sort((a, b) => b.count - a.count || a.category.localeCompare(b.category)),
    groups: [...groups.values()].sort((a, b) => b.count - a.count || b.lastSeen.localeCompare(a.lastSeen)),
  };
}

export async function errorSummary(db: Database, dropRoot: string, since: Date, now = new Date()): Promise<ErrorSummary> {
  const [rows, reports] = await Promise.all([db.failures.listFailures({ since, limit: MAX_FAILURES }), readErrorReports(dropRoot, since)]);
  return summarizeFailures(rows, reports, { dropRoot, since, until: now, truncated: rows.length >= MAX_FAILURES || reports.length >= MAX_FAILURES });
}
