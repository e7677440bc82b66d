// ESLint 9 flat config: the recommended JavaScript and typescript-eslint rules, and the project's own few.
// `npm run lint` runs it; `npm run verify` runs lint before the type check, the tests and the smoke start.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Node built-ins, which workflow code must not import (STYLE.md: workflows are deterministic, no I/O). */
const nodeBuiltins = [
  'assert', 'async_hooks', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises', 'http', 'http2',
  'https', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream', 'stream/promises', 'timers', 'tls', 'url', 'util', 'v8', 'vm',
  'worker_threads', 'zlib',
];

export default tseslint.config(
  {
    ignores: ['node_modules/**', '.refdata/**', 'dropoff/**', 'test-artifacts/**', 'dist/**', 'test/workflow/histories/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Unused names are bugs or dead code; a leading underscore marks one that is unused on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // CommonJS entry points (bin/, require.resolve of workflow bundles) need require; the type checker covers the rest.
      '@typescript-eslint/no-require-imports': 'off',
      // Stylistic: `(err as Error)` casts and non-null assertions after a checked lookup are used deliberately across the tree.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Stylistic: empty callbacks (`() => {}`) are the idiom for "ignore this event" in stream and test code.
      '@typescript-eslint/no-empty-function': 'off',
      // Control characters in regexes are intended: CSV detection matches NUL, BOM and other control bytes on purpose.
      'no-control-regex': 'off',
    },
  },
  {
    // The SQL builders add a clause and its parameter together as `if (x) (clauses.push(…), (params.x = …))`, on purpose.
    files: ['src/db/mssql/**/*.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
  {
    // Workflow code is replayed: no Node built-ins (STYLE.md, "A workflow reads like the process it models").
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: nodeBuiltins.flatMap((m) => [m, `node:${m}`]).map((name) => ({ name, message: 'workflow code must be deterministic: do I/O in an activity' })),
      }],
    },
  },
  {
    // Browser scripts of the dashboard and plain-JS entry points: their globals (window, document, process) are the runtime's.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    rules: { 'no-undef': 'off' },
  },
);
