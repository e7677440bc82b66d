// The manifest (`YYYYMMDD_manifest.json`): what a run sent, so a consumer can check every file it received.
import type { DistributionKind } from './file-names';
import type { RunFile, WatermarkRange } from '../db/distribution-runs';

export interface ManifestInput {
  submissionId: string;
  runId: string;
  businessDate: string;
  kind: DistributionKind;
  generatedAt: string;
  watermark: WatermarkRange;
  files: RunFile[];
}

/**
 * Fixed key order and only stored values (no "now"), so a re-run of an unchanged date writes the same bytes. Field
 * names are snake_case, the original plan's vocabulary for what goes to consumers.
 */
export function manifestText(m: ManifestInput): string {
  const doc = {
    submission_id: m.submissionId,
    run_id: m.runId,
    business_date: m.businessDate,
    kind: m.kind,
    generated_at: m.generatedAt,
    watermark: { from: m.watermark.from, to: m.watermark.to },
    timestamps: 'UTC',
    files: m.files.map((f) => ({ name: f.name, type: f.type, dataset: f.dataset, rows: f.rows, bytes: f.bytes, sha256: f.sha256 })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
