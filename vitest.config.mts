// Test runner: one Temporal dev server per project (global setup), Temporal suites in forked processes.
// The two 2,000-delivery load tests run as a group of their own after everything else, one at a time: on two cores,
// sharing the machine with other suites made them several times slower than alone (and time-bounded, they failed).
// The fault matrix (test/faults) runs last, alone: it kills its own servers and would starve other suites meanwhile.
import { defineConfig } from 'vitest/config';

const loadTests = ['test/e2e/delivery-reliability.test.ts', 'test/e2e/delivery-crash.test.ts'];
const faultTests = ['test/faults/**/*.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['default', ['json', { outputFile: '.refdata/test-results.json' }]],
    projects: [
      { extends: true, test: { name: 'suites', include: ['test/**/*.test.ts'], exclude: [...loadTests, ...faultTests], sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'load', include: loadTests, fileParallelism: false, sequence: { groupOrder: 1 } } },
      { extends: true, test: { name: 'faults', include: faultTests, fileParallelism: false, sequence: { groupOrder: 2 } } },
    ],
  },
});
