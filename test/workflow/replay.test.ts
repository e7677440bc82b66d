// Saved histories must replay on today's workflow code; a tampered history must fail with a determinism error.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';

const dir = path.join(__dirname, 'histories');
const bundle = () => (inject('workflowBundlePath') ? { workflowBundle: { codePath: inject('workflowBundlePath') } } : { workflowsPath: require.resolve('../../workflows') });

interface HistoryJson {
  events: Array<{ activityTaskScheduledEventAttributes?: { activityType?: { name?: string } } }>;
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
