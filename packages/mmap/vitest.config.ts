import { defineConfig, mergeConfig } from 'vitest/config';
import { nativePackageConfig } from '../../vitest.shared.js';

// The suites run against the addon as shipped and against its LUAIPC_PORTABLE build; argument
// errors and the README's examples state OS-independent behaviour and run once.
export default mergeConfig(
  nativePackageConfig(['test/bad-input.test.ts', 'test/readme.test.ts']),
  // Many suites start child processes (and map large sparse files): one file at a time keeps
  // them from starving each other on a small machine.
  defineConfig({ test: { fileParallelism: false } }),
);
