import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

// Two runs of the suites: the build as shipped (open-file-description locks on Linux), and the
// LUAIPC_PORTABLE build (classic per-process F_SETLK locks, what macOS and the BSDs get), which
// test/setup-portable.ts compiles into build-portable/ and the loader picks up through
// LUAIPC_ADDON_DIR (child processes inherit it). Tests that state OS-independent behaviour
// (argument errors, README examples) run once.
const once = ['test/bad-input.test.ts', 'test/readme.test.ts'];

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      projects: [
        { extends: true, test: { name: 'ofd', include: ['test/**/*.test.ts'] } },
        {
          extends: true,
          test: {
            name: 'portable',
            include: ['test/**/*.test.ts'],
            exclude: once,
            env: { LUAIPC_ADDON_DIR: 'build-portable' },
            globalSetup: ['test/setup-portable.ts'],
          },
        },
      ],
    },
  }),
);
