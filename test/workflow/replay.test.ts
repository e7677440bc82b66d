// Saved histories must replay on today's workflow code; a tampered history must fail with a determinism error.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';

const dir = path.join(__dirname, 'histories');
const bundle = () => (inject('workflowBundlePath') ? { workflowBundle: { codePath: inject('workflowBundlePath') } } : { workflowsPath: require.resolve('../../workflows') });

interface HistoryJson {
  events: Array<{
    activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
    markerRecordedEventAttributes?: { markerName?: string; details?: Record<string, { payloads?: Array<{ data?: string }> }> };
  }>;
}

/** The patch ids a history's markers record (the SDK stores `{ id, deprecated }` as a JSON payload). */
function patchIds(history: HistoryJson): string[] {
  return history.events.flatMap((e) => {
    const m = e.markerRecordedEventAttributes;
    if (m?.markerName !== 'core_patch') return [];
    return (m.details?.['patch-data']?.payloads ?? []).map((p) => (JSON.parse(Buffer.from(p.data ?? '', 'base64').toString('utf8')) as { id: string }).id);
  });
}

/** Every patch id the workflow sources use, read from the code itself so a new patch cannot go without a history. */
function patchesInCode(): Map<string, string> {
  const root = path.join(__dirname, '../../workflows');
  const found = new Map<string, string>();
  for (const file of fs.readdirSync(root).filter((f) => f.endsWith('.ts'))) {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    const constants = new Map([...text.matchAll(/const (\w+) = '([^']+)'/g)].map((m) => [m[1], m[2]]));
    for (const m of text.matchAll(/patched\((?:'([^']+)'|(\w+))\)/g)) {
      const id = m[1] ?? constants.get(m[2]);
      if (id) found.set(id, file);
    }
  }
  return found;
}

function load(file: string): HistoryJson {
  return JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as HistoryJson;
}

describe('workflow replay', () => {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));

  it('has at least one saved history per workflow', () => {
    expect(files.some((f) => f.startsWith('file-lifecycle-'))).toBe(true);
    expect(files.some((f) => f.startsWith('instrument-sync-') && !f.startsWith('instrument-sync-scheduled'))).toBe(true);
    expect(files.some((f) => f.startsWith('instrument-sync-scheduled'))).toBe(true);
    expect(files.filter((f) => f.startsWith('delivery-')).length).toBeGreaterThanOrEqual(2);
    expect(files.some((f) => f.startsWith('distribution-') && !f.startsWith('distribution-scheduled'))).toBe(true);
    expect(files.some((f) => f.startsWith('distribution-scheduled'))).toBe(true);
    expect(files.some((f) => f.startsWith('channel-probe-'))).toBe(true);
    expect(files.some((f) => f.startsWith('delivery-waited-for-channel'))).toBe(true);
    expect(files.some((f) => f.startsWith('subscription-release-'))).toBe(true);
    expect(files.some((f) => f.startsWith('intraday-deltas-'))).toBe(true);
    // Syncs and loads from before intraday deltas (no marker) and after (marker, request).
    expect(files).toContain('instrument-sync-requested-intraday-delta.json');
    expect(files).toContain('file-lifecycle-requested-intraday-delta.json');
  });

  it('every patch in the workflow code is recorded in at least one saved history (its new path replays)', () => {
    const recorded = new Set(files.flatMap((f) => patchIds(load(f))));
    const inCode = patchesInCode();
    expect(inCode.size).toBeGreaterThan(0);
    // The cleanup workflow's patches only add an activity at its end; its runs are short and have no recorder yet.
    const missing = [...inCode].filter(([id, file]) => !recorded.has(id) && file !== 'cleanup.ts').map(([id, file]) => `${file}: ${id}`);
    expect(missing).toEqual([]);
  });

  for (const file of files) {
    it(`replays ${file}`, async () => {
      await Worker.runReplayHistory(bundle(), load(file), file);
    });
  }

  it('a history whose activity order was changed fails with a determinism error', async () => {
    const history = load('file-lifecycle-loaded.json');
    // Swap the type of the first scheduled activity: the code schedules registerFile, the history claims planLoad.
    const scheduled = history.events.find((e) => e.activityTaskScheduledEventAttributes)!;
    scheduled.activityTaskScheduledEventAttributes!.activityType = { name: 'planLoad' };
    await expect(Worker.runReplayHistory(bundle(), history, 'broken')).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});
