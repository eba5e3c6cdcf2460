import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../vitest.shared.js';

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      // The prebuilds are made and the packages packed once, before any test file reads them.
      globalSetup: ['test/setup.ts'],
      fileParallelism: false,
    },
  }),
);
