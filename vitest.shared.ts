import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig, type ViteUserConfig } from 'vitest/config';

/**
 * Every package's vitest settings. Besides the console report, each run writes a JSON report
 * that `scripts/test.mjs` adds up into one closing line for the whole repository.
 */
const shared: ViteUserConfig = defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 60_000,
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
  },
});
export default shared;

/**
 * A native package's settings: its suites run twice, against the addon as shipped and against
 * its LUAIPC_PORTABLE build (the POSIX paths macOS and FreeBSD take, built into build-portable/
 * and loaded through LUAIPC_ADDON_DIR, which child processes inherit). `once`: test files that
 * state OS-independent behaviour (argument errors, README examples) and run only in the first.
 * `test`: further settings for both.
 */
export function nativePackageConfig(
  once: string[] = [],
  test: NonNullable<ViteUserConfig['test']> = {},
): ViteUserConfig {
  return mergeConfig(
    shared,
    defineConfig({
      test: {
        ...test,
        projects: [
          { extends: true, test: { name: 'native', include: ['test/**/*.test.ts'] } },
          {
            extends: true,
            test: {
              name: 'portable',
              include: ['test/**/*.test.ts'],
              exclude: once,
              env: { LUAIPC_ADDON_DIR: 'build-portable' },
              globalSetup: [fileURLToPath(new URL('./vitest.portable-setup.ts', import.meta.url))],
            },
          },
        ],
      },
    }),
  );
}
