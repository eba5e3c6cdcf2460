import { configDefaults, defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      // The suites spawn many child processes on a small machine; one file at a time keeps
      // them from starving each other.
      fileParallelism: false,
      // test-win/ is the Windows suite (node:test under Wine), not vitest's.
      exclude: [...configDefaults.exclude, 'test-win/**'],
    },
  }),
);
