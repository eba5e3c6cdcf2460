import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as native from '../index.js';
import { loadAddon } from '../load.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('@luaipc/native', () => {
  it('include and cmake point at the shipped files', () => {
    for (const header of ['env.h', 'errors.h', 'waiter.h', 'handle.h']) {
      expect(existsSync(join(native.include, 'luaipc', header))).toBe(true);
    }
    expect(existsSync(native.cmake)).toBe(true);
  });

  it('a missing addon lists every path tried and how to build it', () => {
    const root = join(here, 'no-such-package');
    const from = join(root, 'dist', 'index.mjs');
    let message = '';
    try {
      loadAddon({ name: 'nothing', from });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const p of [
      join(root, 'build', 'Release', 'nothing.node'),
      join(root, 'build', 'Debug', 'nothing.node'),
      join(root, 'dist', 'build', 'Release', 'nothing.node'),
    ]) {
      expect(message).toContain(p);
    }
    expect(message).toContain('pnpm --filter @luaipc/nothing build');
  });

  it('accepts a file URL as `from` and a custom package name', () => {
    const from = pathToFileURL(join(here, 'x', 'src', 'binding.ts')).href;
    expect(() => loadAddon({ name: 'nothing', from, packageName: '@x/y' })).toThrow(
      /^@x\/y: the native addon nothing\.node was not found/,
    );
  });
});
