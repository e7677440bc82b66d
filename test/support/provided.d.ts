// Types of the values test/global-setup.ts hands to every test file through inject().
export {};

declare module 'vitest' {
  export interface ProvidedContext {
    /** host:port of the one Temporal dev server of this test run (namespace `default`). */
    temporalAddress: string;
    /** Superuser URL of the test PostgreSQL; make a private database from it with createTestDatabase(). */
    pgUrl: string;
    /** workflows/ bundled once for the run (Worker.create's workflowBundle.codePath); '' when bundling failed. */
    workflowBundlePath: string;
  }
}
