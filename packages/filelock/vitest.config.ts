import { nativePackageConfig } from '../../vitest.shared.js';

// The suites run against the build as shipped (open-file-description locks on Linux) and the
// LUAIPC_PORTABLE build (classic per-process F_SETLK locks, what macOS and the BSDs get).
// Tests that state OS-independent behaviour (argument errors, README examples) run once.
export default nativePackageConfig(['test/bad-input.test.ts', 'test/readme.test.ts']);
