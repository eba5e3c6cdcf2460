import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../vitest.shared.js';

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      // The prebuilds are made once, before any test file reads or packs them.
      globalSetup: ['test/setup-prebuilds.ts'],
      fileParallelism: false,
    },
  }),
);
