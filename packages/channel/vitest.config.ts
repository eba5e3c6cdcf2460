import { nativePackageConfig } from '../../vitest.shared.js';

// The suites spawn many child processes on a small machine; one file at a time keeps them from
// starving each other.
export default nativePackageConfig([], { fileParallelism: false });
