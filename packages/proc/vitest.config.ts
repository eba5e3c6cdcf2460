import { nativePackageConfig } from '../../vitest.shared.js';

// The suites run against the build as shipped (pidfd, eventfd, pipe2 on Linux) and the
// LUAIPC_PORTABLE build (exit found by reaping with backoff, a self-pipe for wake-ups, pipe() +
// fcntl, cwd through a shell where the C library lacks addchdir). Tests of OS-independent
// behaviour (argument errors, README examples, types) run once.
export default nativePackageConfig([
  'test/bad-input.test.ts',
  'test/readme.test.ts',
  'test/types.test.ts',
]);
