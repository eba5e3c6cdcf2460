// The platforms prebuilt addons ship for. Each native package `@luaipc/<name>` has one package
// per target, `@luaipc/<name>-<tag>` (packages/<name>-<tag>/, holding only `<name>.node`), as
// an optional dependency that npm, pnpm, yarn and bun install only where os, cpu and libc
// match; `@luaipc/native`'s loader looks for the one named after the running platform.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const root = join(import.meta.dirname, '..');

export const TARGETS = [
  {
    tag: 'linux-x64-glibc',
    os: 'linux',
    cpu: 'x64',
    libc: 'glibc',
    title: 'Linux x64 (glibc ≥ 2.28)',
  },
  {
    tag: 'linux-arm64-glibc',
    os: 'linux',
    cpu: 'arm64',
    libc: 'glibc',
    title: 'Linux arm64 (glibc ≥ 2.28)',
  },
  { tag: 'win32-x64', os: 'win32', cpu: 'x64', title: 'Windows x64' },
];

/** The native packages (those with an addon to build), by folder name. */
export function nativePackages() {
  return readdirSync(join(root, 'packages')).filter((name) =>
    existsSync(join(root, 'packages', name, 'src', 'native', 'CMakeLists.txt')),
  );
}

/** The folder of `@luaipc/<name>-<tag>`, where the prebuild `<name>.node` is written. */
export const platformPackageDir = (name, tag) => join(root, 'packages', `${name}-${tag}`);
