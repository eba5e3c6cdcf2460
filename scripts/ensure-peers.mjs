#!/usr/bin/env node
// The test suite runs our packages against real peers: the Lua 5.4 interpreter (reference for
// file semantics), python3 (shm/mmap/lock interop), a C toolchain + cmake for the addons, and
// mingw-w64 + Wine for the Windows suites.
// On a fresh Debian/Ubuntu machine where we are root, install what is missing; otherwise say
// exactly what to install. Tests never skip a missing peer: they fail.
import { execFileSync, spawnSync } from 'node:child_process';

const peers = [
  { bin: 'lua5.4', apt: 'lua5.4' },
  { bin: 'python3', apt: 'python3' },
  { bin: 'cmake', apt: 'cmake' },
  { bin: 'ninja', apt: 'ninja-build' },
  { bin: 'g++', apt: 'g++' },
  { bin: 'cc', apt: 'gcc' },
  // The Windows suites: mingw-w64 cross-compiles the addons, Wine runs Node for Windows.
  { bin: 'x86_64-w64-mingw32-g++-posix', apt: 'mingw-w64' },
  { bin: 'wine', apt: 'wine64' },
  // The linux-arm64 prebuilds: a cross compiler, and qemu-user to run them with arm64 Node.
  { bin: 'aarch64-linux-gnu-g++', apt: 'g++-aarch64-linux-gnu' },
  { bin: 'qemu-aarch64', apt: 'qemu-user' },
  // Tests run child processes as another user with limits (setpriv, prlimit, unshare).
  { bin: 'setpriv', apt: 'util-linux' },
  { bin: 'prlimit', apt: 'util-linux' },
];

const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
const missing = peers.filter((p) => !has(p.bin));
if (missing.length === 0) process.exit(0);

const packages = [...new Set(missing.map((p) => p.apt))];
const isRoot = process.getuid?.() === 0;
if (isRoot && has('apt-get')) {
  console.log(`Installing test peers: ${packages.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit', env });
  process.exit(0);
}
console.error(
  `The tests need: ${missing.map((p) => p.bin).join(', ')}.\n` +
    `Install them first, e.g.: sudo apt-get install -y ${packages.join(' ')}`,
);
process.exit(1);
