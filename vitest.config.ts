import { defineConfig } from 'vitest/config';

export default defineConfig({
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
