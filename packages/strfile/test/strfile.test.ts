import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { FileLike, IpcError, open } from '../src/index.js';

describe('open', () => {
  it('reads a string with Lua formats', () => {
    const f = open('10 20\nhello\nworld');
    expect(f).toBeInstanceOf(FileLike);
    expect(f.read('n', 'n')).toEqual([10, 20]);
    expect(f.read('L')).toBe('\n');
    expect([...f.lines()]).toEqual(['hello', 'world']);
    expect(f.size()).toBe(Buffer.byteLength('10 20\nhello\nworld'));
  });

  it('stores strings as UTF-8, so sizes and counts are in bytes', () => {
    const f = open('héllo');
    expect(f.size()).toBe(6);
    expect(f.read(3)).toBe('hé');
  });

  it('keeps latin1 strings byte for byte', () => {
    const f = open('\xff\xfe\n', { encoding: 'latin1' });
    expect(f.size()).toBe(3);
    expect(f.read('l')).toBe('\xff\xfe');
  });

  it('views bytes without copying and returns Buffers with encoding buffer', () => {
    const bytes = new Uint8Array([0x61, 0x0a, 0x62]);
    const f = open(bytes, { encoding: 'buffer' });
    const first = f.read('l');
    expect(Buffer.isBuffer(first)).toBe(true);
    expect(first?.toString()).toBe('a');
    bytes[2] = 0x63;
    expect(f.read('a')?.toString()).toBe('c');
  });

  it('is read-only: write throws EBADF with Lua\'s "permission denied"', () => {
    const f = open('abc');
    let caught: unknown;
    try {
      f.write('x');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(IpcError);
    expect((caught as IpcError).code).toBe('EBADF');
    expect((caught as IpcError).message).toBe('EBADF: permission denied, write');
    expect(f.read('a')).toBe('abc');
  });

  it('seeks within the string and refuses to go outside it', () => {
    const f = open('0123456789');
    expect(f.seek('end', -2)).toBe(8);
    expect(f.read('a')).toBe('89');
    expect(() => f.seek('set', 11)).toThrow(IpcError);
  });

  it('handles an empty string', () => {
    const f = open('');
    expect(f.read()).toBeNull();
    expect(f.read('a')).toBe('');
    expect(f.read(0)).toBeNull();
    expect([...f.lines()]).toEqual([]);
  });

  it('rejects what is neither a string nor bytes', () => {
    for (const bad of [undefined, null, 42, {}, [1, 2]]) {
      expect(() => open(bad as unknown as string)).toThrow(TypeError);
    }
    expect(() => open(42 as unknown as string)).toThrow(
      new TypeError("bad argument #1 to 'open' (string or Uint8Array expected, got number)"),
    );
    expect(() => open('x', { encoding: 'hex' as 'utf8' })).toThrow(TypeError);
    expect(() => open('x', null as unknown as object)).toThrow(TypeError);
  });

  it('closes once and then refuses use', () => {
    const f = open('x');
    expect(f.close()).toBe(true);
    expect(f.close()).toBe(true);
    expect(() => f.read()).toThrow(new TypeError('attempt to use a closed file'));
  });
});

describe('package exports', () => {
  it('loads through require and import with the same API', async () => {
    const require = createRequire(import.meta.url);
    const cjs = require('@luaipc/strfile') as typeof import('../src/index.js');
    const esm = (await import('@luaipc/strfile')) as typeof import('../src/index.js');
    expect(typeof cjs.open).toBe('function');
    expect(cjs.open('a\nb').read('l')).toBe('a');
    expect(esm.open('a\nb').read('L')).toBe('a\n');
  });
});
