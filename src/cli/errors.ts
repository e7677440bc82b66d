// `refdata errors [--since 7d] [--json]`: what went wrong lately, grouped by category, table and folder.
import { Command } from 'commander';
import { baseServices, openDb } from '../runtime';
import { errorSummary, parseSince, type ErrorSummary } from '../error-analysis';

const when = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

export function summaryLines(s: ErrorSummary): string[] {
  if (s.total === 0) return [`no failed files since ${when(s.since)}`];
  const lines = [
    `${s.total} failed file(s) since ${when(s.since)}${s.truncated ? ' (more than one summary reads; narrow --since)' : ''}`,
    `by category: ${s.byCategory.map((c) => `${c.category} ${c.count}`).join(', ')}`,
    '',
  ];
  for (const g of s.groups) {
    const codes = Object.entries(g.codes).map(([c, n]) => `${c}×${n}`).join(' ');
    lines.push(
      `${String(g.count).padStart(5)}  ${g.category.padEnd(16)} ${(g.table ?? '(no table)').padEnd(28)} ${g.folder ?? '(unknown folder)'}`,
      `       first ${when(g.firstSeen)}, last ${when(g.lastSeen)}${codes ? `; codes ${codes}` : ''}`,
      `       e.g. ${g.example.file}: ${g.example.message.slice(0, 200)}`,
      ...(g.example.reportPath ? [`       report ${g.example.reportPath}`] : []),
    );
  }
  lines.push('', 'what each category means and what to do: docs/troubleshooting.md');
  return lines;
}

export function errorsCommand(): Command {
  return new Command('errors')
    .description('failed files grouped by category, table and folder, with counts, first/last seen and an example')
    .option('--since <when>', 'a duration back from now (30m, 12h, 7d, 2w) or an ISO date', '7d')
    .option('--json', 'print JSON (the same as GET /api/v1/errors/summary)')
    .action(async (opts: { since: string; json?: boolean }) => {
      const since = parseSince(opts.since, new Date());
      const { config, log } = baseServices();
      const db = await openDb(config, log);
      try {
        const summary = await errorSummary(db, config.dropoffDir, since);
        process.stdout.write(opts.json ? `${JSON.stringify(summary, null, 2)}\n` : `${summaryLines(summary).join('\n')}\n`);
      } finally {
        await db.close();
      }
    });
}
