// Runs explain themselves in the Temporal Web UI: findable by each search attribute (visibility API), with a summary and details.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { workflowMetadataQuery } from '@temporalio/workflow';
import { instrumentCsv, startSystem, waitFor, type System } from './harness';
import { signalFileWorkflow } from '../../src/temporal/client';
import { startInstrumentSync } from '../../src/temporal/instrument-sync';
import type { FileLifecycleResult } from '../../workflows/file-lifecycle';

let sys: System;
beforeAll(async () => {
  sys = await startSystem({ testFile: __filename, database: 'postgres' });
});
afterAll(async () => sys?.stop());

/** Visibility is eventually consistent: poll until the query returns the run. */
async function findRun(query: string, runId: string): Promise<WorkflowExecutionInfo> {
  return waitFor(`a run for ${query}`, async () => {
    for await (const info of sys.client.workflow.list({ query })) if (info.runId === runId) return info;
    return null;
  }, 30_000);
}

describe('a file run in the Temporal Web UI', () => {
  const relative = 'none_reference_data_table/append/quotes_20241201.csv';
  let workflowId: string;
  let runId: string;

  beforeAll(async () => {
    const file = path.join(sys.dropRoot, relative);
    await fs.writeFile(file, instrumentCsv(1500));
    const started = await signalFileWorkflow(sys.client, { dropRoot: sys.dropRoot, filePath: file, stability: sys.stability, skipStability: true });
    if (!('workflowId' in started)) throw new Error(started.ignored);
    ({ workflowId, runId } = started);
    const result = (await sys.client.workflow.getHandle(workflowId).result()) as FileLifecycleResult;
    expect(result.status).toBe('loaded');
  });

  for (const [attribute, value] of [['FilePath', relative], ['LoadType', 'append'], ['TableName', 'quotes']] as const) {
    it(`is findable by ${attribute} = "${value}"`, async () => {
      const info = await findRun(`${attribute} = "${value}"`, runId);
      expect(info.workflowId).toBe(workflowId);
      expect(info.typedSearchAttributes.getAll().find((p) => p.key.name === attribute)?.value).toBe(value);
    });
  }

  it('is findable by all three together, and only this run matches', async () => {
    const query = `FilePath = "${relative}" AND LoadType = "append" AND TableName = "quotes"`;
    await findRun(query, runId);
    const all: string[] = [];
    for await (const info of sys.client.workflow.list({ query })) all.push(info.runId);
    expect(all).toEqual([runId]);
  });

  it('says what it is (static summary) and how it ended (current details)', async () => {
    const handle = sys.client.workflow.getHandle(workflowId);
    expect(await (await handle.describe()).staticSummary()).toBe('Load quotes_20241201.csv (non-reference data, append)');
    const meta = await handle.query(workflowMetadataQuery);
    expect(meta.currentDetails).toMatch(/^\*\*loaded\*\*; rows: 1500; archived to .*quotes_20241201\.csv$/);
  });
});

describe('an instrument sync run in the Temporal Web UI', () => {
  it('is findable by SyncTrigger, TableName and FilePath from the moment it starts', async () => {
    const source = path.join(sys.dropRoot, 'no-such-instruments.csv');
    const started = await startInstrumentSync(sys.client, { source: { file: source }, trigger: 'api' });
    expect(started.started).toBe(true);
    try {
      for (const query of ['SyncTrigger = "api"', 'TableName = "instruments"', `FilePath = "${source}"`]) {
        expect((await findRun(query, started.runId)).workflowId).toBe(started.workflowId);
      }
      expect(await (await sys.client.workflow.getHandle(started.workflowId, started.runId).describe()).staticSummary()).toContain('no-such-instruments.csv');
    } finally {
      await sys.client.workflow.getHandle(started.workflowId, started.runId).terminate('test done').catch(() => undefined);
    }
  });
});
