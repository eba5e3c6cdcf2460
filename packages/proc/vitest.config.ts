import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

// Two runs of the suites: the build as shipped (pidfd, eventfd, pipe2 on Linux), and the
// LUAIPC_PORTABLE build (exit found by reaping with backoff, a self-pipe for wake-ups, pipe() +
// fcntl, cwd through a shell where the C library lacks addchdir), which test/setup-portable.ts
// compiles into build-portable/ and the loader picks up through LUAIPC_ADDON_DIR (child
// processes inherit it). Tests of OS-independent behaviour (argument errors, README examples,
// types) run once.
const once = ['test/bad-input.test.ts', 'test/readme.test.ts', 'test/types.test.ts'];

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      projects: [
        { extends: true, test: { name: 'linux', include: ['test/**/*.test.ts'] } },
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
