import { defineConfig } from 'vitest/config';

/**
 * Every package's vitest settings. Besides the console report, each run writes a JSON report
 * that `scripts/test.mjs` adds up into one closing line for the whole repository.
 */
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 60_000,
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
  },
});
