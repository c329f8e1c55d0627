import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two files at a time even on two cores (the default there is one): a file spends most of its
    // time waiting on the engines, so the suite takes two thirds of the time.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // The handlers log rejected requests at INFO; tests need only warnings and errors.
    env: { POWERTOOLS_LOG_LEVEL: 'WARN', POWERTOOLS_DEV: 'true' },
    reporters: ['default'],
  },
});
