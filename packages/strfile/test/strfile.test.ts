import { createRequire } from 'node:module';
import { join } from 'node:path';
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

  it("rejects what is neither a string nor bytes with Node's ERR_INVALID_ARG_TYPE", () => {
    /** Node's own " Received ..." for `value`, from a check of Node's (path.join). */
    const received = (value: unknown) => {
      try {
        join(value as string);
      } catch (e) {
        return (e as Error).message.replace(/^.* Received /, ' Received ');
      }
      throw new Error('Node accepted the value');
    };
    for (const bad of [undefined, null, 42, {}, [1, 2], new Uint16Array(2)]) {
      const error = expect.objectContaining({
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_TYPE',
        message: `The "data" argument must be of type string or an instance of Uint8Array.${received(bad)}`,
      });
      expect(() => open(bad as unknown as string)).toThrow(error);
      // The first argument is checked first, as Node's functions do.
      expect(() => open(bad as unknown as string, null as unknown as object)).toThrow(error);
    }
    expect(() => open('x', { encoding: 'hex' as 'utf8' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => open('x', null as unknown as object)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });

  it('closes once and then refuses use', () => {
    const f = open('x');
    expect(f.close()).toBe(true);
    expect(f.close()).toBe(true);
    expect(() => f.read()).toThrow(
      expect.objectContaining({ code: 'ERR_IPC_CLOSED', message: 'attempt to use a closed file' }),
    );
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

describe('line reads decoded ahead in blocks', () => {
  // strfile decodes whole blocks of lines at once; a FileLike over the same bytes without that
  // option reads line by line. Both must give the same values and positions for any mix.
  function randomText(seed: number, bytes: number): Buffer {
    let s = seed >>> 0;
    const next = () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s;
    };
    const pieces = ['abc', ' ', '\n', '\r\n', 'é', '€', '\xff', '12', '\n\n', 'x'.repeat(70_000)];
    const out: Buffer[] = [];
    let n = 0;
    while (n < bytes) {
      const r = next() % 100;
      // Mostly ASCII, some multi-byte UTF-8, rare raw latin1 bytes and 70 KB lines.
      const piece = r < 60 ? pieces[r % 3] : r < 90 ? pieces[2 + (r % 7)] : pieces[r % 10];
      const b = Buffer.from(piece ?? '', piece === '\xff' ? 'latin1' : 'utf8');
      out.push(b);
      n += b.length;
    }
    return Buffer.concat(out);
  }

  for (const encoding of ['utf8', 'latin1'] as const) {
    it(`matches line-by-line reads (${encoding}), across seeks and mixed formats`, () => {
      for (let seed = 1; seed <= 6; seed++) {
        const bytes = randomText(seed, 400_000);
        const ahead = open(bytes, { encoding });
        const plain = new FileLike(bytes, { mode: 'r', encoding });
        let s = seed;
        for (let step = 0; step < 3000; step++) {
          s = (Math.imul(s, 48271) + 11) >>> 0;
          const op = s % 10;
          if (op === 0) {
            const to = s % (bytes.length + 1);
            expect(ahead.seek('set', to)).toBe(plain.seek('set', to));
          } else if (op === 1) {
            expect(ahead.read(s % 50)).toEqual(plain.read(s % 50));
          } else if (op === 2) {
            expect(ahead.read('n')).toEqual(plain.read('n'));
          } else {
            const f = op % 2 === 0 ? 'L' : 'l';
            expect(ahead.read(f)).toEqual(plain.read(f));
          }
          expect(ahead.seek()).toBe(plain.seek());
        }
        ahead.seek('set', 0);
        plain.seek('set', 0);
        expect([...ahead.lines('L')]).toEqual([...plain.lines('L')]);
      }
    });
  }
});
