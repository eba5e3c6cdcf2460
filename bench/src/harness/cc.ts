import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { benchRoot } from './paths.js';

/**
 * Compiles `bench/c/<name>.c` with `cc -O2` into `bench/build/<name>` and returns the binary's
 * path. Called from a suite's `prepare`, so every run measures a binary built from the current
 * source.
 */
export function compileC(name: string, libs: string[] = []): string {
  const src = join(benchRoot, 'c', `${name}.c`);
  const outDir = join(benchRoot, 'build');
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, name);
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-std=c11', '-o', out, src, ...libs], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return out;
}
