// One Temporal namespace per test file, so workers of files running in parallel never share a task queue.
import { basename, dirname } from 'node:path';

/** `test/e2e/file-lifecycle.test.ts` → `test-e2e-file-lifecycle`; the global setup creates one for every test file. */
export function namespaceForTestFile(testFile: string): string {
  const folder = basename(dirname(testFile));
  return `test-${folder}-${basename(testFile).replace(/\.test\.ts$/, '')}`.replace(/[^a-z0-9-]/gi, '-');
}
