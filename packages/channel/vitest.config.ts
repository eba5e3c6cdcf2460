import { nativePackageConfig } from '../../vitest.shared.js';

// The suites spawn many child processes on a small machine; one file at a time keeps them from
// starving each other. Argument errors and the README examples do not depend on the build:
// they run once.
export default nativePackageConfig(['test/bad-input.test.ts', 'test/readme.test.ts'], {
  fileParallelism: false,
});
