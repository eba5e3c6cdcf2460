import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as native from '../index.js';
import { loadAddon, platformTag } from '../load.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('@luaipc/native', () => {
  it('include and cmake point at the shipped files', () => {
    for (const header of ['env.h', 'errors.h', 'waiter.h', 'handle.h']) {
      expect(existsSync(join(native.include, 'luaipc', header))).toBe(true);
    }
    expect(existsSync(native.cmake)).toBe(true);
  });

  it('a missing addon is ERR_IPC_NO_BINARY naming the platform, every path tried and what to do', () => {
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
    expect(message).toContain(`no native addon for ${process.platform}-${process.arch} (glibc)`);
    for (const p of [
      join(root, 'prebuilds', tag, 'nothing.node'),
      join(root, 'build', 'Release', 'nothing.node'),
      join(root, 'build', 'Debug', 'nothing.node'),
    ]) {
      expect(message).toContain(p);
    }
    expect(message).toContain('npx luaipc-build-addon @luaipc/nothing');
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
      const elf = Buffer.alloc(64);
      elf.write('\x7fELF', 0, 'latin1');
      elf[4] = 2;
      elf[5] = 1;
      elf.writeUInt16LE(process.arch === 's390x' ? 62 : 22, 18);
      writeFileSync(join(release, 'foreign.node'), elf);
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
