// The shipped type declarations must type-check in a consumer project as people set one up:
// @types/node, TypeScript's default lib for the target (no esnext.disposable), skipLibCheck off,
// under both module resolutions people use.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const consumer = fileURLToPath(new URL('./consumer/', import.meta.url));

describe('a TypeScript consumer of the built packages', () => {
  for (const config of ['node16', 'bundler']) {
    it(`type-checks with skipLibCheck: false (${config})`, () => {
      const r = spawnSync(process.execPath, [tsc, '-p', `tsconfig.${config}.json`], {
        cwd: consumer,
        encoding: 'utf8',
      });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
  }
});
