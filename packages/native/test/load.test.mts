import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as native from '../src/index.js';
import { loadAddon, platformTag } from '../src/load.js';

const here = dirname(fileURLToPath(import.meta.url));
const ELF_MACHINE: Record<string, number> = { x64: 62, arm64: 183, s390x: 22 };

/** The first 64 bytes of a 64-bit little-endian ELF file for `machine`. */
function elfHeader(machine: number): Buffer {
  const elf = Buffer.alloc(64);
  elf.write('\x7fELF', 0, 'latin1');
  elf[4] = 2;
  elf[5] = 1;
  elf.writeUInt16LE(machine, 18);
  return elf;
}

/**
 * A package `@luaipc/fake` 1.2.3 in a temporary folder (the loader is given its dist/), naming
 * per-platform packages for `optional` tags as the shipped manifests do.
 */
function fakePackage({ optional }: { optional: string[] }): string {
  const root = mkdtempSync(join(tmpdir(), 'luaipc-load-'));
  const optionalDependencies = Object.fromEntries(
    optional.map((t) => [`@luaipc/fake-${t}`, '1.2.3']),
  );
  writeFileSync(
    join(root, 'package.json'),
    JSON.stringify({ name: '@luaipc/fake', version: '1.2.3', optionalDependencies }),
  );
  return root;
}

/** The error loadAddon throws for `name` in the package at `root`. */
function noBinary(root: string, name: string): { code?: string; message: string } {
  try {
    loadAddon({ name, from: join(root, 'dist', 'index.mjs') });
  } catch (error) {
    return error as { code?: string; message: string };
  }
  return { message: 'loaded' };
}

describe('@luaipc/native', () => {
  it('is the runtime part alone: its main module gathers load, args and abort; no build kit ships', () => {
    // `default` is the CommonJS module itself, as Node's ESM import of it gives it.
    expect(
      Object.keys(native)
        .filter((k) => k !== 'default')
        .sort(),
    ).toEqual(
      ['checkFd', 'checkInteger', 'checkName', 'checkOptions', 'checkSignal', 'checkSize']
        .concat(['checkTimeout', 'loadAddon', 'onAbort', 'platformTag', 'waitArgs'])
        .sort(),
    );
    const manifest = JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8'));
    expect(manifest.bin).toBeUndefined();
    expect(manifest.files).toEqual(['dist', 'README.md', 'CHANGELOG.md']);
    for (const kit of ['include', 'cmake', 'build-addon.js']) {
      expect([kit, existsSync(join(here, '..', kit))]).toEqual([kit, false]);
    }
    // Its sources are the TypeScript of the runtime part, nothing to compile into an addon.
    expect(readdirSync(join(here, '..', 'src')).filter((f) => !f.endsWith('.ts'))).toEqual([]);
  });

  it('a missing addon is ERR_IPC_NO_BINARY naming the platform, every place tried and what to do', () => {
    const root = join(here, 'no-such-package');
    const from = join(root, 'dist', 'index.mjs');
    let caught: (Error & { code?: string }) | undefined;
    try {
      loadAddon({ name: 'nothing', from });
    } catch (error) {
      caught = error as Error & { code?: string };
    }
    expect(caught?.code).toBe('ERR_IPC_NO_BINARY');
    const message = caught?.message ?? '';
    const tag = platformTag();
    expect(tag).toBe(`${process.platform}-${process.arch}-glibc`);
    expect(message).toContain(
      `no native addon for ${process.platform}-${process.arch} (glibc), Node ${process.version}`,
    );
    for (const p of [
      `@luaipc/nothing-${tag} (not installed)`,
      join(root, 'build', 'Release', 'nothing.node'),
      join(root, 'build', 'Debug', 'nothing.node'),
    ]) {
      expect(message).toContain(p);
    }
    expect(message).toContain(`No prebuilt binary ships for ${tag}; prebuilt: none.`);
    expect(message).toContain('npx @luaipc/build @luaipc/nothing');
  });

  it('loads the binary of the installed per-platform package <package>-<platformTag()>', () => {
    const root = fakePackage({ optional: [platformTag()] });
    try {
      const binary = join(root, 'node_modules', '@luaipc', `fake-${platformTag()}`, 'fake.node');
      mkdirSync(dirname(binary), { recursive: true });
      writeFileSync(binary, elfHeader(ELF_MACHINE[process.arch] as number));
      // A header with nothing behind it: the OS refuses to load it, naming the file it was given.
      expect(() => loadAddon({ name: 'fake', from: join(root, 'dist', 'index.mjs') })).toThrow(
        binary,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a prebuilt platform whose package is not installed: names the package at its version and how to build instead', () => {
    const root = fakePackage({ optional: [platformTag(), 'win32-x64'] });
    try {
      const e = noBinary(root, 'fake');
      expect(e.code).toBe('ERR_IPC_NO_BINARY');
      expect(e.message).toContain(`@luaipc/fake-${platformTag()} (not installed)`);
      expect(e.message).toContain(
        `optional dependency @luaipc/fake-${platformTag()}, which is not installed`,
      );
      expect(e.message).toContain(`npm install @luaipc/fake-${platformTag()}@1.2.3`);
      expect(e.message).toContain('npx @luaipc/build @luaipc/fake');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('on musl (Alpine: libc detection faked) the error names musl, the prebuilt platforms and the build command', () => {
    const root = fakePackage({ optional: ['linux-x64-glibc', 'linux-arm64-glibc', 'win32-x64'] });
    try {
      // What the loader reads to tell: where the C library is musl, the process maps musl's
      // dynamic loader and no libc.so.6.
      const script = `
        const fs = require('node:fs');
        const readFileSync = fs.readFileSync;
        fs.readFileSync = (file, ...rest) =>
          file === '/proc/self/maps'
            ? '7f0000000000-7f0000001000 r-xp 00000000 00:00 1 /lib/ld-musl-x86_64.so.1\\n'
            : readFileSync(file, ...rest);
        const { loadAddon, platformTag } = require(${JSON.stringify(join(here, '..', 'dist', 'load.js'))});
        try {
          loadAddon({ name: 'fake', from: ${JSON.stringify(join(root, 'dist', 'index.mjs'))} });
        } catch (e) {
          console.log(JSON.stringify({ tag: platformTag(), code: e.code, message: e.message }));
        }`;
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      const e = JSON.parse(r.stdout);
      expect(e.tag).toBe(`linux-${process.arch}-musl`);
      expect(e.code).toBe('ERR_IPC_NO_BINARY');
      expect(e.message).toContain(`no native addon for linux-${process.arch} (musl)`);
      expect(e.message).toContain(`@luaipc/fake-linux-${process.arch}-musl (not installed)`);
      expect(e.message).toContain(
        'No prebuilt binary ships for musl libc (Alpine Linux); prebuilt: linux-x64-glibc, linux-arm64-glibc, win32-x64.',
      );
      expect(e.message).toContain('npx @luaipc/build @luaipc/fake');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('accepts a file URL as `from` and a custom package name', () => {
    const from = pathToFileURL(join(here, 'x', 'src', 'binding.ts')).href;
    expect(() => loadAddon({ name: 'nothing', from, packageName: '@x/y' })).toThrow(
      /^@x\/y: no native addon for /,
    );
  });

  it('skips a local build for another CPU or OS (a shared checkout) instead of failing to load it', () => {
    const root = mkdtempSync(join(tmpdir(), 'luaipc-load-'));
    try {
      const release = join(root, 'build', 'Release');
      mkdirSync(release, { recursive: true });
      // An ELF header for a machine this process is not (s390x here, x64 elsewhere).
      writeFileSync(join(release, 'foreign.node'), elfHeader(process.arch === 's390x' ? 62 : 22));
      let caught: (Error & { code?: string }) | undefined;
      try {
        loadAddon({ name: 'foreign', from: join(root, 'dist', 'index.mjs') });
      } catch (error) {
        caught = error as Error & { code?: string };
      }
      expect(caught?.code).toBe('ERR_IPC_NO_BINARY');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
