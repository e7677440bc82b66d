// The fault matrix: every fault × phase, what must come of it, and why a cell does not apply. The suite runs the
// applicable cells for fullload and append; docs/ingestion.md shows renderMatrix(), checked by matrix-doc.test.ts.

export type Phase = 'drop' | 'waiting' | 'planning' | 'loading' | 'finishing' | 'archiving' | 'done';
export type Mode = 'fullload' | 'append';
export type FaultId =
  | 'worker-kill' | 'pg-crash' | 'pg-refusing' | 'temporal-kill' | 'cancel'
  | 'redrop-same' | 'redrop-other' | 'overwrite' | 'truncate' | 'temporal-unreachable';

/** What a cell must end with, besides the invariant. */
export type Goal =
  /** The file is good and the fault is one the system recovers from: it must end `loaded`. */
  | 'loaded'
  /** Cancelled before anything was committed: `cancelled`, nothing kept. */
  | 'cancelled'
  /** Cancelled after the commit: either `loaded` or undone and `cancelled`, as long as every record agrees. */
  | 'loaded-or-cancelled'
  /** Dropped twice: the content is in the table once; the second drop ends `duplicate` (or merges into the run). */
  | 'once'
  /** Changed under the loader: one whole version loaded (the one archived), or failed with nothing kept. */
  | 'one-version';

export interface Fault {
  id: FaultId;
  title: string;
  /** Phases where the cell runs, with its goal; a phase absent from both lists is explained in `notApplicable`. */
  cells: Partial<Record<Phase, Goal>>;
  notApplicable: Partial<Record<Phase, string>>;
}

export const phases: { id: Phase; title: string }[] = [
  { id: 'drop', title: 'at drop' },
  { id: 'waiting', title: 'stability wait' },
  { id: 'planning', title: 'planning' },
  { id: 'loading', title: 'loading (≥ 1 batch committed)' },
  { id: 'finishing', title: 'finishing (swap / append committed)' },
  { id: 'archiving', title: 'archiving (file in processed/, ledger not written)' },
  { id: 'done', title: 'after the run ended' },
];

const atDropOnly = 'only the Temporal-unreachable fault acts before a workflow exists';
const afterRunOnly = 'a fault after the run ended is only a new drop (the re-drop rows)';
const noHeartbeat =
  'planLoad has no heartbeat timeout: a killed worker\'s attempt is retried only after its 5-minute start-to-close timeout, beyond the suite\'s budget';

export const faults: Fault[] = [
  {
    id: 'worker-kill', title: 'worker SIGKILL, then a new worker',
    cells: { waiting: 'loaded', loading: 'loaded', finishing: 'loaded', archiving: 'loaded' },
    notApplicable: { drop: atDropOnly, planning: noHeartbeat, done: afterRunOnly },
  },
  {
    id: 'pg-crash', title: 'PostgreSQL immediate stop and start (crash recovery)',
    cells: { waiting: 'loaded', planning: 'loaded', loading: 'loaded', finishing: 'loaded', archiving: 'loaded' },
    notApplicable: { drop: atDropOnly, done: afterRunOnly },
  },
  {
    id: 'pg-refusing', title: 'PostgreSQL refusing connections for 10 s',
    cells: { waiting: 'loaded', planning: 'loaded', loading: 'loaded', finishing: 'loaded', archiving: 'loaded' },
    notApplicable: { drop: atDropOnly, done: afterRunOnly },
  },
  {
    id: 'temporal-kill', title: 'Temporal dev server SIGKILL, restarted on its database',
    cells: { waiting: 'loaded', planning: 'loaded', loading: 'loaded', finishing: 'loaded', archiving: 'loaded' },
    notApplicable: { drop: 'Temporal down when the file arrives is the Temporal-unreachable row', done: afterRunOnly },
  },
  {
    id: 'cancel', title: 'cancel through the API',
    cells: { waiting: 'cancelled', planning: 'cancelled', loading: 'cancelled', finishing: 'loaded-or-cancelled', archiving: 'loaded-or-cancelled' },
    notApplicable: { drop: atDropOnly, done: 'the API refuses to cancel a run that has ended (409)' },
  },
  {
    id: 'redrop-same', title: 'the same file dropped again, same name',
    cells: { waiting: 'once', planning: 'once', loading: 'once', finishing: 'once', archiving: 'once', done: 'once' },
    notApplicable: { drop: atDropOnly },
  },
  {
    id: 'redrop-other', title: 'the same file dropped again, other name (same table)',
    cells: { waiting: 'once', planning: 'once', loading: 'once', finishing: 'once', archiving: 'once', done: 'once' },
    notApplicable: { drop: atDropOnly },
  },
  {
    id: 'overwrite', title: 'the file overwritten in place with other rows',
    cells: { waiting: 'loaded', planning: 'one-version', loading: 'one-version', finishing: 'one-version' },
    notApplicable: {
      drop: atDropOnly,
      archiving: 'the file is already in processed/: writing its old path again is a new drop (the re-drop rows)',
      done: afterRunOnly,
    },
  },
  {
    id: 'truncate', title: 'the file truncated in place (at a line end)',
    cells: { waiting: 'loaded', planning: 'one-version', loading: 'one-version', finishing: 'one-version' },
    notApplicable: {
      drop: atDropOnly,
      archiving: 'the file is already in processed/ and out of the loader\'s hands',
      done: afterRunOnly,
    },
  },
  {
    id: 'temporal-unreachable', title: 'Temporal unreachable when the file is dropped',
    cells: { drop: 'loaded' },
    notApplicable: {
      waiting: 'once a workflow exists, Temporal going away is the Temporal-kill row',
      planning: 'as for the stability wait', loading: 'as for the stability wait', finishing: 'as for the stability wait',
      archiving: 'as for the stability wait', done: afterRunOnly,
    },
  },
];

const goalText: Record<Goal, string> = {
  loaded: 'loaded',
  cancelled: 'cancelled, nothing kept',
  'loaded-or-cancelled': 'loaded, or cancelled and undone',
  once: 'rows once; the 2nd drop merges into the run or ends duplicate',
  'one-version': 'one whole version loaded, or failed',
};

/** The Markdown table in docs/ingestion.md: one row per fault, one column per phase, for fullload and append alike. */
export function renderMatrix(): string {
  const header = `| fault | ${phases.map((p) => p.title).join(' | ')} |`;
  const rule = `| --- | ${phases.map(() => '---').join(' | ')} |`;
  const notes: string[] = [];
  const rows = faults.map((f) => {
    const cells = phases.map((p) => {
      const goal = f.cells[p.id];
      if (goal) return goalText[goal];
      const why = f.notApplicable[p.id];
      if (!why) throw new Error(`cell ${f.id} × ${p.id} neither runs nor says why not`);
      let n = notes.indexOf(why);
      if (n < 0) n = notes.push(why) - 1;
      return `n/a (${n + 1})`;
    });
    return `| ${f.title} | ${cells.join(' | ')} |`;
  });
  return [header, rule, ...rows, '', ...notes.map((why, i) => `${i + 1}. n/a: ${why}.`)].join('\n');
}
