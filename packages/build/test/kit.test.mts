import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as build from '../index.js';

const here = dirname(fileURLToPath(import.meta.url));
const packages = join(here, '..', '..');
/** The native packages: those with an addon to build (as scripts/targets.mjs finds them). */
const nativePackages = readdirSync(packages).filter((name) =>
  existsSync(join(packages, name, 'src', 'native', 'CMakeLists.txt')),
);

describe('@luaipc/build', () => {
  it('include and cmake point at the shipped files', () => {
    for (const header of ['env.h', 'errors.h', 'waiter.h', 'handle.h']) {
      expect(existsSync(join(build.include, 'luaipc', header))).toBe(true);
    }
    expect(existsSync(build.cmake)).toBe(true);
  });

  it('the package ships what a source build compiles: every glue source the CMake file lists', () => {
    const manifest = JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8'));
    expect(manifest.bin).toEqual({ 'luaipc-build-addon': './build-addon.js' });
    expect(manifest.files).toEqual(
      expect.arrayContaining(['include', 'src/*.cc', 'src/*.h', 'cmake/luaipc_addon.cmake']),
    );
    const cmake = readFileSync(build.cmake, 'utf8');
    const listed = [...cmake.matchAll(/^set\(LUAIPC_GLUE_\w+((?: \w+\.cc)*)\)$/gm)].flatMap((m) =>
      (m[1] as string).trim().split(' ').filter(Boolean),
    );
    expect(listed.length).toBeGreaterThanOrEqual(6);
    for (const source of listed) expect([source, existsSync(join(here, '..', 'src', source))]).toEqual([source, true]);
  });

  it('without a package name the bin prints its usage and exits 2', () => {
    const r = spawnSync(process.execPath, [join(here, '..', 'build-addon.js')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('usage: npx @luaipc/build <package> [...]');
  });
});

describe('every native package finds the kit', () => {
  /** `cmake` configuring a package's src/native into a temporary folder; its output. */
  function configure(
    name: string,
    defines: string[],
    env: NodeJS.ProcessEnv = process.env,
  ): { status: number | null; out: string } {
    const dir = mkdtempSync(join(tmpdir(), 'luaipc-kit-'));
    try {
      const r = spawnSync(
        'cmake',
        ['-S', join(packages, name, 'src', 'native'), '-B', dir, ...defines],
        { encoding: 'utf8', env },
      );
      return { status: r.status, out: r.stdout + r.stderr };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('through LUAIPC_CMAKE when it is set (what luaipc-build-addon passes), never asking node', () => {
    const dir = mkdtempSync(join(tmpdir(), 'luaipc-kit-'));
    try {
      const fake = join(dir, 'fake.cmake');
      writeFileSync(
        fake,
        'function(luaipc_add_addon name)\n  message(STATUS "fake kit: ${name}")\nendfunction()\n',
      );
      // A `node` that fails comes first on PATH: a package that looked the kit up itself fails.
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      writeFileSync(join(bin, 'node'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
      const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
      for (const name of nativePackages) {
        const r = configure(name, [`-DLUAIPC_CMAKE=${fake}`], env);
        expect([name, r.status, r.out.includes(`fake kit: ${name}`)]).toEqual([name, 0, true]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("else through require('@luaipc/build').cmake, from its own devDependency", () => {
    for (const name of nativePackages) {
      const manifest = JSON.parse(readFileSync(join(packages, name, 'package.json'), 'utf8'));
      expect([name, manifest.devDependencies?.['@luaipc/build']]).toEqual([name, 'workspace:^']);
      const cmakeLists = readFileSync(join(packages, name, 'src', 'native', 'CMakeLists.txt'), 'utf8');
      expect([name, cmakeLists]).toEqual([name, expect.stringContaining("require('@luaipc/build').cmake")]);
      expect([name, cmakeLists]).toEqual([name, expect.stringContaining('if(NOT LUAIPC_CMAKE)')]);
    }
  });
});

describe('the Node-API version', () => {
  it('is stated once in the CMake helper, and every cmake-js marker agrees with it', () => {
    const cmake = readFileSync(build.cmake, 'utf8');
    const version = Number(/set\(LUAIPC_NAPI_VERSION (\d+)\)/.exec(cmake)?.[1]);
    expect(version).toBeGreaterThanOrEqual(8);
    const markers = readdirSync(packages).flatMap((name) =>
      ['package.json', 'src/native/package.json'].map((f) => join(packages, name, f)),
    );
    let seen = 0;
    for (const file of markers) {
      let json: { binary?: { napi_versions?: number[] } };
      try {
        json = JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        continue;
      }
      if (json.binary === undefined) continue;
      seen++;
      expect([file, json.binary.napi_versions]).toEqual([file, [version]]);
    }
    expect(seen).toBeGreaterThanOrEqual(4);
  });
});
