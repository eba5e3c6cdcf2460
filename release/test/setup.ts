import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { packedName, publicPackages, repo } from './helpers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The folder holding `pnpm pack` of every public package (see `tarballs()`). */
    tarballs: string;
  }
}

/**
 * Once for the whole run, before any test file reads or packs them: every prebuilt binary
 * (scripts/prebuild.mjs, all targets), then `pnpm pack` of every public package into one folder,
 * as `pnpm release` would publish them.
 */
export default function setup(project: TestProject): () => void {
  const script = join(repo, 'scripts', 'prebuild.mjs');
  const r = spawnSync(process.execPath, [script], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`prebuild failed (exit ${r.status})`);
  const dir = mkdtempSync(join(tmpdir(), 'luaipc-tarballs-'));
  for (const name of publicPackages()) {
    const p = spawnSync('npx', ['-y', 'pnpm@12.4.2', 'pack', '--pack-destination', dir], {
      cwd: join(repo, 'packages', name),
      encoding: 'utf8',
    });
    if (p.status !== 0 || p.stderr !== '') {
      throw new Error(`pnpm pack of ${name} failed (exit ${p.status}):\n${p.stderr}`);
    }
    if (!existsSync(join(dir, packedName(name)))) {
      throw new Error(`pnpm pack of ${name} made no ${packedName(name)}`);
    }
  }
  project.provide('tarballs', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
