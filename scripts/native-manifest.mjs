#!/usr/bin/env node
// Keeps every native package's package.json in one shape for publishing: the files a user
// needs (dist, the prebuilds, the sources and CMake files luaipc-build-addon builds from, and a
// peer module for another language where the package has one), and os/cpu for the platforms prebuilds exist for. `--check` fails instead of writing (tests).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const check = process.argv.includes('--check');
const FILES = [
  'dist',
  'prebuilds',
  'src/native/CMakeLists.txt',
  'src/native/package.json',
  'src/native/*.h',
  'src/native/*.cc',
  'README.md',
  'CHANGELOG.md',
];
let wrong = 0;
for (const name of readdirSync(join(root, 'packages'))) {
  const file = join(root, 'packages', name, 'package.json');
  if (!existsSync(join(root, 'packages', name, 'src', 'native', 'CMakeLists.txt'))) continue;
  const text = readFileSync(file, 'utf8');
  const pkg = JSON.parse(text);
  // A package with a peer for another language (channel's python/) ships it too.
  const peers = existsSync(join(root, 'packages', name, 'python')) ? ['python/*.py'] : [];
  pkg.files = [...FILES.slice(0, -2), ...peers, ...FILES.slice(-2)];
  pkg.os = ['linux', 'win32'];
  pkg.cpu = ['x64', 'arm64'];
  const out = `${JSON.stringify(pkg, null, 2)}\n`;
  if (out === text) continue;
  wrong++;
  if (check)
    console.error(
      `${name}/package.json is not in the native shape (node scripts/native-manifest.mjs)`,
    );
  else writeFileSync(file, out);
}
process.exit(check && wrong > 0 ? 1 : 0);
