// refdata's custom search attributes on a namespace: which are missing or of another type (pure), and registering
// the missing ones. `temporal server start-dev --search-attribute` registers them only when it creates its database,
// so a dev server whose database predates an attribute (an upgraded install: .refdata/temporal.db) lacks it, and
// every schedule or run that sets it is refused ("no mapping defined for search attribute").
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { searchAttributeTypes } from '../ids';

const KEYWORD = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;

export interface SearchAttributeGaps {
  missing: string[];
  /** Registered with another type: cannot be changed in place. */
  wrongType: string[];
}

/** Compares what a namespace has registered (name → indexed value type) with what refdata sets. */
export function searchAttributeGaps(registered: Record<string, number | null | undefined>): SearchAttributeGaps {
  const names = Object.keys(searchAttributeTypes);
  return {
    missing: names.filter((n) => registered[n] === undefined || registered[n] === null),
    wrongType: names.filter((n) => registered[n] !== undefined && registered[n] !== null && registered[n] !== KEYWORD),
  };
}

/** The namespace's gaps, read through the operator service. */
export async function readSearchAttributeGaps(connection: Connection, namespace: string, timeoutMs = 10_000): Promise<SearchAttributeGaps> {
  const res = await connection.withDeadline(Date.now() + timeoutMs, () => connection.operatorService.listSearchAttributes({ namespace }));
  return searchAttributeGaps(res.customAttributes ?? {});
}

/**
 * Registers the attributes a namespace lacks (all are Keyword) and returns their names; [] when none was missing.
 * One of another type stops with what to do, since runs that set it would fail.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const { missing, wrongType } = await readSearchAttributeGaps(connection, namespace);
  if (wrongType.length) {
    throw new Error(
      `namespace ${namespace} has search attribute(s) ${wrongType.join(', ')} registered with a type other than Keyword; ` +
        'a type cannot change in place: remove them (temporal operator search-attribute remove) and start again',
    );
  }
  if (missing.length === 0) return [];
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map((n) => [n, KEYWORD])) });
  return missing;
}
