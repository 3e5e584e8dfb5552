import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const k6 = (m: string) => fileURLToPath(new URL(`./test/support/k6/${m}.ts`, import.meta.url));

export default defineConfig({
  // The k6 scripts (loadtests/k6) import k6's built-in modules; in tests they resolve to a stand-in runtime
  // (test/support/k6) so test/loadtests/k6-scripts.test.ts can run them against the real workload service.
  resolve: {
    alias: [
      { find: /^k6$/, replacement: k6('k6') },
      { find: /^k6\/http$/, replacement: k6('http') },
      { find: /^k6\/data$/, replacement: k6('data') },
      { find: /^k6\/execution$/, replacement: k6('execution') },
      { find: /^k6\/experimental\/fs$/, replacement: k6('fs') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Starts the throwaway test stack (its own cluster and PgBouncer on other ports) and builds the
    // migrated template database each test file clones; the user's local stack is never touched.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // Two cores: two files at a time keeps PostgreSQL and the tests from starving each other.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
