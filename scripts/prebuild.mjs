#!/usr/bin/env node
// Builds the prebuilt binaries of every native package, all from this Linux machine, each into
// its per-platform package (scripts/targets.mjs):
//   packages/<name>-linux-x64-glibc/<name>.node    this machine's g++, for glibc >= 2.28
//   packages/<name>-linux-arm64-glibc/<name>.node  aarch64-linux-gnu-g++, for glibc >= 2.28
//   packages/<name>-win32-x64/<name>.node          mingw-w64 (scripts/build-win.mjs)
// The Linux binaries must load on every system Node 20 supports, down to RHEL 8: no symbol newer
// than GLIBC_2.28 or GLIBCXX_3.4.25. Each is built twice: once to learn which versioned symbols
// it needs, then with a generated header of .symver lines binding each one to its oldest version
// in the target's libraries (and src/compat/glibc_compat.cc defining the few that have none).
// The result is checked; a newer need fails the build.
//   node scripts/prebuild.mjs [--target linux-x64-glibc|linux-arm64-glibc|win32-x64] [package ...]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { aboveFloor, newer, parseVersion, versionNeeds } from './elf-needs.mjs';
import { nativePackages, platformPackageDir, root } from './targets.mjs';

const args = process.argv.slice(2);
const targetArg = args.indexOf('--target');
const targets =
  targetArg >= 0 ? [args[targetArg + 1]] : ['linux-x64-glibc', 'linux-arm64-glibc', 'win32-x64'];
const wanted = args.filter((a, i) => !a.startsWith('--') && (targetArg < 0 || i !== targetArg + 1));

const LINUX = {
  'linux-x64-glibc': {
    toolchain: undefined,
    libs: [
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/usr/lib/x86_64-linux-gnu/libstdc++.so.6',
      '/lib/x86_64-linux-gnu/libm.so.6',
    ],
    objdump: 'objdump',
    tool: 'g++',
  },
  'linux-arm64-glibc': {
    toolchain: join(root, 'packages', 'build', 'cmake', 'aarch64-linux-gnu.cmake'),
    libs: [
      '/usr/aarch64-linux-gnu/lib/libc.so.6',
      '/usr/aarch64-linux-gnu/lib/libstdc++.so.6',
      '/usr/aarch64-linux-gnu/lib/libm.so.6',
    ],
    objdump: 'aarch64-linux-gnu-objdump',
    tool: 'aarch64-linux-gnu-g++',
  },
};

const require = createRequire(join(root, 'packages', 'sem', 'package.json'));
const headers = join(require.resolve('node-api-headers/package.json'), '..');
const packages = nativePackages().filter((name) => wanted.length === 0 || wanted.includes(name));

/** Every version each dynamic symbol of the target's libraries is defined with. */
function versionsOf(objdump, libs) {
  const table = new Map();
  for (const lib of libs) {
    const out = execFileSync(objdump, ['-T', lib], { encoding: 'utf8', maxBuffer: 64 << 20 });
    for (const line of out.split('\n')) {
      const m = /\s\(?((?:GLIBC|GLIBCXX)_[0-9.]+)\)?\s+(\S+)$/.exec(line);
      if (!m || !/\sDF\s|\sDO\s/.test(line)) continue;
      const [, version, symbol] = m;
      if (!table.has(symbol)) table.set(symbol, new Set());
      table.get(symbol).add(version);
    }
  }
  return table;
}

/** Writes `text` unless the file already holds it (a header rewritten alike rebuilds nothing). */
function writeIfChanged(file, text) {
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return;
  writeFileSync(file, text);
}

function cmakeBuild(name, target, buildDir, out, extra) {
  const source = join(root, 'packages', name, 'src', 'native');
  const config = LINUX[target];
  execFileSync(
    'cmake',
    [
      '-S',
      source,
      '-B',
      buildDir,
      '-G',
      'Ninja',
      '-DCMAKE_BUILD_TYPE=Release',
      ...(config.toolchain ? [`-DCMAKE_TOOLCHAIN_FILE=${config.toolchain}`] : []),
      `-DCMAKE_JS_INC=${join(headers, 'include')}`,
      `-DCMAKE_LIBRARY_OUTPUT_DIRECTORY=${out}`,
      '-DLUAIPC_COMPAT_GLIBC=ON',
      '-DLUAIPC_PREBUILD=ON',
      ...extra,
      '-Wno-dev',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  execFileSync('cmake', ['--build', buildDir], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function buildLinux(target) {
  const config = LINUX[target];
  if (spawnSync('sh', ['-c', `command -v ${config.tool}`]).status !== 0) {
    throw new Error(
      `prebuild ${target}: ${config.tool} is missing (Debian: g++-aarch64-linux-gnu)`,
    );
  }
  const table = versionsOf(config.objdump, config.libs);
  for (const name of packages) {
    const t0 = performance.now();
    const work = join(root, 'build-prebuild', target, name);
    const out = platformPackageDir(name, target);
    mkdirSync(out, { recursive: true });
    // Two builds in two folders, so a second run with nothing changed rebuilds nothing: the
    // first, without pins, shows which versions the compiler's choices need; the second binds
    // each one newer than the floor to its oldest version.
    const probe = join(work, 'probe');
    mkdirSync(probe, { recursive: true });
    const empty = join(work, 'none.h');
    writeIfChanged(empty, '');
    cmakeBuild(name, target, join(work, 'cmake-probe'), probe, [`-DLUAIPC_SYMVER_HEADER=${empty}`]);
    const lines = [];
    for (const { symbol, version } of versionNeeds(join(probe, `${name}.node`), config.objdump)) {
      if (!aboveFloor(version)) continue;
      const older = [...(table.get(symbol) ?? [])].filter((v) => !aboveFloor(v));
      older.sort((a, b) => (newer(parseVersion(a), parseVersion(b)) ? 1 : -1));
      if (older.length === 0)
        throw new Error(`${name} (${target}): ${symbol}@${version} has no version old enough`);
      lines.push(`__asm__(".symver ${symbol},${symbol}@${older[0]}");`);
    }
    const header = join(work, 'symver.h');
    writeIfChanged(
      header,
      `// Generated by scripts/prebuild.mjs for ${target}: bind each symbol to its oldest version.\n${lines.join('\n')}\n`,
    );
    cmakeBuild(name, target, join(work, 'cmake'), out, [`-DLUAIPC_SYMVER_HEADER=${header}`]);
    const binary = join(out, `${name}.node`);
    const left = versionNeeds(binary, config.objdump).filter(({ version }) => aboveFloor(version));
    if (left.length > 0) {
      throw new Error(
        `${name} (${target}) still needs: ${left.map((n) => `${n.symbol}@${n.version}`).join(', ')}`,
      );
    }
    console.log(
      `${name}: ${binary} (${lines.length} symbols pinned, ${Math.round(performance.now() - t0)} ms)`,
    );
  }
}

for (const target of targets) {
  if (target === 'win32-x64') {
    execFileSync('node', [join(root, 'scripts', 'build-win.mjs'), ...wanted], { stdio: 'inherit' });
  } else if (LINUX[target]) {
    buildLinux(target);
  } else {
    throw new Error(`prebuild: unknown target ${target}`);
  }
}
