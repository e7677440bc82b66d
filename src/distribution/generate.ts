// Generates a run's files from one database snapshot: instruments (full, delta, cancellation), other datasets, the
// invalid records, then the manifest that lists them all. Each file is streamed to disk and renamed into place.
import type { DatasetRef, DistributionRun, DistributionRunStore, RunFile } from '../db/distribution-runs';
import { distributionFileName, INSTRUMENTS_DATASET, type DistributionFileType } from './file-names';
import { invalidFileChunks } from './invalid-file';
import { manifestText } from './manifest';
import { removeStaleTemporaries, writeAtomically } from './write-file';

export interface GenerateProgress {
  file: string;
  filesDone: number;
  filesTotal: number;
  bytes: number;
}

export interface GenerateOptions {
  store: DistributionRunStore;
  run: DistributionRun;
  dir: string;
  /** Datasets beyond the instruments (full files only: loaded tables keep no change history to take a delta from). */
  datasets: DatasetRef[];
  /** Called as bytes are written (heartbeats, progress) and between files; may throw to stop (cancellation). */
  onProgress?: (p: GenerateProgress) => void;
}

/** One file of the run: what it is, and how its bytes are exported into a sink (returning its rows). */
interface Planned {
  type: Exclude<DistributionFileType, 'manifest'>;
  dataset: string;
  write: (sink: (chunks: AsyncIterable<Buffer>) => Promise<void>) => Promise<number>;
}

export async function generateRunFiles(opts: GenerateOptions): Promise<RunFile[]> {
  const { run, dir } = opts;
  await removeStaleTemporaries(dir);
  const files = await opts.store.withSnapshot(async (snapshot) => {
    // The nightly set has every file; an intraday delta only what changed (delta, cancellation, invalid).
    const planned: Planned[] = [];
    if (run.kind === 'full') planned.push({ type: 'full', dataset: INSTRUMENTS_DATASET, write: (sink) => snapshot.exportInstruments('full', run.watermark, sink) });
    planned.push(
      { type: 'delta', dataset: INSTRUMENTS_DATASET, write: (sink) => snapshot.exportInstruments('delta', run.watermark, sink) },
      { type: 'cancellation', dataset: INSTRUMENTS_DATASET, write: (sink) => snapshot.exportInstruments('cancellation', run.watermark, sink) },
      {
        type: 'invalid',
        dataset: INSTRUMENTS_DATASET,
        write: async (sink) => {
          const counter = { rows: 0 };
          await sink(invalidFileChunks(snapshot.invalidRecords(run.watermark), counter));
          return counter.rows;
        },
      },
    );
    if (run.kind === 'full') {
      for (const d of opts.datasets) planned.push({ type: 'full', dataset: d.name, write: (sink) => snapshot.exportDataset(d, sink) });
    }
    const written: RunFile[] = [];
    for (const p of planned) {
      const name = distributionFileName(run.runId, p.type, p.dataset);
      const progress = (bytes: number) => opts.onProgress?.({ file: name, filesDone: written.length, filesTotal: planned.length + 1, bytes });
      progress(0);
      let result: { bytes: number; sha256: string } | null = null;
      const rows = await p.write(async (chunks) => {
        result = await writeAtomically(dir, name, chunks, progress);
      });
      if (!result) throw new Error(`the export of ${name} ended without writing the file`);
      const { bytes, sha256 } = result as { bytes: number; sha256: string };
      written.push({ name, type: p.type, dataset: p.dataset, rows, bytes, sha256 });
    }
    return written;
  });
  const manifestName = distributionFileName(run.runId, 'manifest');
  const text = manifestText({
    submissionId: run.submissionId, runId: run.runId, businessDate: run.businessDate, kind: run.kind, generatedAt: run.generatedAt, watermark: run.watermark, files,
  });
  const manifest = await writeAtomically(dir, manifestName, (async function* () {
    yield Buffer.from(text);
  })());
  opts.onProgress?.({ file: manifestName, filesDone: files.length + 1, filesTotal: files.length + 1, bytes: manifest.bytes });
  return [...files, { name: manifestName, type: 'manifest', dataset: INSTRUMENTS_DATASET, rows: files.length, bytes: manifest.bytes, sha256: manifest.sha256 }];
}
