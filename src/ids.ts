// The one place that names task queues, workflow ids and search attributes (workflows, API and CLI share it).
// Pure and free of Node APIs so workflow code may import it.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const taskQueues = {
  ingest: 'ingest',
  sync: 'sync',
  distribution: 'distribution',
  delivery: 'delivery',
} as const;

/** Custom search attributes registered on the dev server and set by workflows. */
export const searchAttributeTypes = {
  FilePath: 'Keyword',
  TableName: 'Keyword',
  LoadType: 'Keyword',
  SubscriberId: 'Keyword',
  Channel: 'Keyword',
  ReportType: 'Keyword',
  BusinessDate: 'Keyword',
} as const;

export type SearchAttributeName = keyof typeof searchAttributeTypes;

/** `--search-attribute` values for `temporal server start-dev`. */
export function devServerSearchAttributeArgs(): string[] {
  return Object.entries(searchAttributeTypes).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]);
}

/** Workflow id of a dropped file: its path relative to the drop root, with forward slashes. */
export function fileWorkflowId(relativePath: string): string {
  return `file:${relativePath.split('\\').join('/')}`;
}

/** Typed keys for workflows and clients. */
export const searchAttributes = {
  FilePath: defineSearchAttributeKey('FilePath', SearchAttributeType.KEYWORD),
  TableName: defineSearchAttributeKey('TableName', SearchAttributeType.KEYWORD),
  LoadType: defineSearchAttributeKey('LoadType', SearchAttributeType.KEYWORD),
  SubscriberId: defineSearchAttributeKey('SubscriberId', SearchAttributeType.KEYWORD),
  Channel: defineSearchAttributeKey('Channel', SearchAttributeType.KEYWORD),
  ReportType: defineSearchAttributeKey('ReportType', SearchAttributeType.KEYWORD),
  BusinessDate: defineSearchAttributeKey('BusinessDate', SearchAttributeType.KEYWORD),
};
