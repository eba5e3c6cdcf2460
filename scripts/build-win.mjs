#!/usr/bin/env node
// Cross-compiles every native package's addon for win32-x64 with mingw-w64 (no Windows machine
// needed): packages/<name>-win32-x64/<name>.node. The import library the addon links
// against is made from node-api-headers' .def file, naming node.exe as the DLL that exports
// Node-API. Warnings are errors here too (luaipc_add_addon).
//   node scripts/build-win.mjs [package ...]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { nativePackages, platformPackageDir, root } from './targets.mjs';

// Every native package has node-api-headers as a dev dependency (sem's is as good as any).
const require = createRequire(join(root, 'packages', 'sem', 'package.json'));
const headers = join(require.resolve('node-api-headers/package.json'), '..');
const toolchain = join(root, 'packages', 'build', 'cmake', 'mingw-w64.cmake');

for (const tool of ['x86_64-w64-mingw32-g++-posix', 'x86_64-w64-mingw32-dlltool', 'cmake']) {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
  } catch {
    console.error(`build-win: ${tool} is missing (Debian: apt-get install mingw-w64 cmake)`);
    process.exit(1);
  }
}

const work = join(root, 'build-win');
mkdirSync(work, { recursive: true });
const importLib = join(work, 'libnode_api.a');
execFileSync('x86_64-w64-mingw32-dlltool', [
  '-d',
  join(headers, 'def', 'node_api.def'),
  '-l',
  importLib,
  '-D',
  'node.exe',
]);

const wanted = process.argv.slice(2);
const native = nativePackages().filter((name) => wanted.length === 0 || wanted.includes(name));
// A package builds for Windows once it has a Windows backend (src/native/*_win.cc).
const hasWindowsBackend = (name) =>
  readdirSync(join(root, 'packages', name, 'src', 'native')).some((f) => f.endsWith('_win.cc'));
const packages = native.filter(hasWindowsBackend);
const without = native.filter((name) => !hasWindowsBackend(name));
if (without.length > 0) console.log(`build-win: no Windows backend yet: ${without.join(', ')}`);
for (const name of packages) {
  const source = join(root, 'packages', name, 'src', 'native');
  const build = join(work, name);
  const out = platformPackageDir(name, 'win32-x64');
  mkdirSync(out, { recursive: true });
  const t0 = performance.now();
  execFileSync(
    'cmake',
    [
      '-S',
      source,
      '-B',
      build,
      '-G',
      'Ninja',
      `-DCMAKE_TOOLCHAIN_FILE=${toolchain}`,
      '-DCMAKE_BUILD_TYPE=Release',
      '-DLUAIPC_PREBUILD=ON',
      `-DCMAKE_JS_INC=${join(headers, 'include')}`,
      `-DCMAKE_JS_LIB=${importLib}`,
      `-DCMAKE_LIBRARY_OUTPUT_DIRECTORY=${out}`,
      `-DCMAKE_RUNTIME_OUTPUT_DIRECTORY=${out}`,
      '-Wno-dev',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  execFileSync('cmake', ['--build', build], { stdio: ['ignore', 'ignore', 'inherit'] });
  console.log(`${name}: ${join(out, `${name}.node`)} (${Math.round(performance.now() - t0)} ms)`);
}
