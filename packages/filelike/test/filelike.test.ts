import { constants } from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import { thrownBy } from '../../../vitest.expect.js';
import { FileLike, IpcError, MemoryStore } from '../src/index.js';

/** A Lua-worded argument error as the file methods throw it: Lua's message, Node's code. */
const luaError = (Class: typeof TypeError | typeof RangeError, code: string, message: string) =>
  Object.assign(new Class(message), { code });

const file = (text: string, options = {}) => new FileLike(Buffer.from(text, 'latin1'), options);

const ipcError = (fn: () => unknown): IpcError => thrownBy(fn, IpcError);

describe('read', () => {
  it('reads lines without and with the newline, and null at EOF', () => {
    const f = file('one\ntwo\n\nlast');
    expect(f.read()).toBe('one');
    expect(f.read('L')).toBe('two\n');
    expect(f.read('l')).toBe('');
    expect(f.read('*l')).toBe('last');
    expect(f.read('l')).toBeNull();
    expect(f.read('L')).toBeNull();
  });

  it('keeps \\r as an ordinary byte like Lua', () => {
    const f = file('a\r\nb');
    expect(f.read('l')).toBe('a\r');
    expect(f.read('L')).toBe('b');
  });

  it("reads the rest with 'a' and gives '' at EOF", () => {
    const f = file('abc\ndef');
    expect(f.read(2)).toBe('ab');
    expect(f.read('a')).toBe('c\ndef');
    expect(f.read('*a')).toBe('');
    expect(f.read('a')).toBe('');
  });

  it('reads byte counts, with 0 testing for EOF', () => {
    const f = file('hello');
    expect(f.read(0)).toBe('');
    expect(f.read(3)).toBe('hel');
    expect(f.read(10)).toBe('lo');
    expect(f.read(0)).toBeNull();
    expect(f.read(1)).toBeNull();
  });

  it('returns an array for several formats, ending at the first null', () => {
    const f = file('12 34 rest\nx');
    expect(f.read('n', 'n', 'l')).toEqual([12, 34, ' rest']);
    expect(f.read('l', 'l', 'l')).toEqual(['x', null]);
    expect(f.read('a', 'l')).toEqual(['', null]);
  });

  it("reads numerals with 'n' and consumes what it scanned on failure", () => {
    const f = file('  0x1F\t-2.5e3 .5 0x1p4 abc');
    expect(f.read('n')).toBe(31);
    expect(f.read('*n')).toBe(-2500);
    expect(f.read('n')).toBe(0.5);
    expect(f.read('n')).toBe(16);
    expect(f.read('n')).toBeNull();
    expect(f.seek()).toBe(23); // the spaces before 'abc' were skipped, 'a' was not consumed
    const g = file('1e+x');
    expect(g.read('n')).toBeNull();
    expect(g.read('a')).toBe('x');
  });

  it("gives up on numerals longer than Lua's 200-character limit", () => {
    const f = file(`${'1'.repeat(201)} 7`);
    expect(f.read('n')).toBeNull();
    expect(f.seek()).toBe(200);
    expect(file(`${'1'.repeat(200)} 7`).read('n')).toBe(Number('1'.repeat(200)));
  });

  it('distinguishes integer numerals: hex wraps, decimal overflow becomes a float, -0 is 0', () => {
    expect(file('0xffffffffffffffff').read('n')).toBe(-1);
    expect(file('9223372036854775808').read('n')).toBe(2 ** 63);
    expect(Object.is(file('-0').read('n'), 0)).toBe(true);
    expect(Object.is(file('-0.0').read('n'), -0)).toBe(true);
    expect(file('1e400').read('n')).toBe(Number.POSITIVE_INFINITY);
  });

  it('accepts a leading * and only looks at the first letter, like Lua', () => {
    const f = file('ab\ncd\n');
    expect(f.read('*line' as 'l')).toBe('ab');
    expect(f.read('Line' as 'L')).toBe('cd\n');
  });

  it("Lua-worded argument errors carry Node's code for their kind", () => {
    const f = file('x');
    const codeOf = (fn: () => unknown): unknown => {
      try {
        fn();
      } catch (e) {
        return [(e as Error).constructor.name, (e as { code?: unknown }).code];
      }
      return 'no error';
    };
    expect(codeOf(() => f.read({} as unknown as 'l'))).toEqual([
      'TypeError',
      'ERR_INVALID_ARG_TYPE',
    ]);
    expect(codeOf(() => f.read('x' as 'l'))).toEqual(['TypeError', 'ERR_INVALID_ARG_VALUE']);
    expect(codeOf(() => f.read(1.5))).toEqual(['TypeError', 'ERR_INVALID_ARG_VALUE']);
    expect(codeOf(() => f.read(-1))).toEqual(['RangeError', 'ERR_OUT_OF_RANGE']);
    expect(codeOf(() => f.write({} as unknown as string))).toEqual([
      'TypeError',
      'ERR_INVALID_ARG_TYPE',
    ]);
    expect(codeOf(() => f.seek('x' as 'set'))).toEqual(['TypeError', 'ERR_INVALID_ARG_VALUE']);
    expect(codeOf(() => f.seek('set', 'a' as unknown as number))).toEqual([
      'TypeError',
      'ERR_INVALID_ARG_TYPE',
    ]);
    expect(codeOf(() => f.setvbuf('full', -1))).toEqual(['RangeError', 'ERR_OUT_OF_RANGE']);
    expect(codeOf(() => f.lines(...Array<'l'>(251).fill('l')))).toEqual([
      'RangeError',
      'ERR_OUT_OF_RANGE',
    ]);
  });

  it('rejects invalid formats and counts', () => {
    const f = file('x');
    expect(() => f.read('x' as 'l')).toThrow(
      luaError(TypeError, 'ERR_INVALID_ARG_VALUE', "bad argument #1 to 'read' (invalid format)"),
    );
    expect(() => f.read('l', 'q' as 'l')).toThrow(
      luaError(TypeError, 'ERR_INVALID_ARG_VALUE', "bad argument #2 to 'read' (invalid format)"),
    );
    expect(() => f.read('' as 'l')).toThrow(TypeError);
    expect(() => f.read(1.5)).toThrow(
      luaError(
        TypeError,
        'ERR_INVALID_ARG_VALUE',
        "bad argument #1 to 'read' (number has no integer representation)",
      ),
    );
    expect(() => f.read(-1)).toThrow(
      luaError(RangeError, 'ERR_OUT_OF_RANGE', "bad argument #1 to 'read' (count must be >= 0)"),
    );
    expect(() => f.read({} as unknown as 'l')).toThrow(TypeError);
    expect(f.read('a')).toBe('x'); // failed calls did not move the position
  });

  it('decodes per encoding: utf8, byte-exact latin1, or Buffer copies', () => {
    const bytes = Buffer.from([0xc3, 0xa9, 0x0a, 0xff]);
    expect(new FileLike(bytes).read('l')).toBe('é');
    const latin = new FileLike(bytes, { encoding: 'latin1' });
    expect(latin.read('a')).toBe('\xc3\xa9\n\xff');
    const raw = new FileLike<Buffer>(bytes, { encoding: 'buffer' });
    const line = raw.read('L');
    expect(line).toEqual(Buffer.from([0xc3, 0xa9, 0x0a]));
    bytes[0] = 0;
    expect(line?.[0]).toBe(0xc3); // a copy, not a view
    expect(raw.encoding).toBe('buffer');
  });
});

describe('lines', () => {
  it('iterates lines from the current position and stops at EOF', () => {
    const f = file('skip\na\nb\n\nc');
    f.read('l');
    expect([...f.lines()]).toEqual(['a', 'b', '', 'c']);
    expect([...f.lines()]).toEqual([]);
  });

  it('takes formats; several yield arrays; it ends when the first value is null', () => {
    expect([...file('1 2\n3 4\n').lines('n')]).toEqual([1, 2, 3, 4]);
    expect([...file('1 a\n2 b\n').lines('n', 'l')]).toEqual([
      [1, ' a'],
      [2, ' b'],
    ]);
    expect([...file('abcdefg').lines(3)]).toEqual(['abc', 'def', 'g']);
    expect([...file('x\ny').lines('L')]).toEqual(['x\n', 'y']);
  });

  it('follows seeks made between steps', () => {
    const f = file('a\nb\nc\n');
    const it = f.lines();
    expect(it.next().value).toBe('a');
    f.seek('set', 0);
    expect(it.next().value).toBe('a');
    f.seek('end');
    expect(it.next().done).toBe(true);
  });

  it('validates formats up front and throws once the handle is closed', () => {
    const f = file('a\nb');
    expect(() => f.lines('z' as 'l')).toThrow(
      luaError(TypeError, 'ERR_INVALID_ARG_VALUE', "bad argument #1 to 'lines' (invalid format)"),
    );
    expect(() => f.lines(...new Array<'l'>(251).fill('l'))).toThrow(RangeError);
    const it = f.lines();
    expect(it.next().value).toBe('a');
    f.close();
    expect(() => it.next()).toThrow(
      expect.objectContaining({ code: 'ERR_IPC_CLOSED', message: 'attempt to use a closed file' }),
    );
  });
});

describe('write', () => {
  it('writes strings, integers like %d, floats like %.14g and bytes, returning the handle', () => {
    const buf = Buffer.alloc(64, 0x2e);
    const f = new FileLike(buf);
    expect(f.write('hi ', 42, ' ', 0.1, ' ', 1 / 3, ' ', new Uint8Array([0x41, 0x42]))).toBe(f);
    const expected = 'hi 42 0.1 0.33333333333333 AB';
    expect(buf.toString('latin1', 0, expected.length)).toBe(expected);
    expect(f.seek()).toBe(expected.length);
    f.seek('set', 0);
    f.write(1e100, '|', -0, '|', 2 ** 60, '|', 10n ** 18n, '|', Number.NaN, '|', -Infinity);
    const second = '1e+100|-0|1.1529215046068e+18|1000000000000000000|nan|-inf';
    expect(buf.toString('latin1', 0, second.length)).toBe(second);
  });

  it('encodes strings as UTF-8, or as latin1 on a latin1 handle', () => {
    const utf = Buffer.alloc(4);
    new FileLike(utf).write('é');
    expect([...utf.subarray(0, 2)]).toEqual([0xc3, 0xa9]);
    const latin = Buffer.alloc(4);
    new FileLike(latin, { encoding: 'latin1' }).write('é\xff');
    expect([...latin.subarray(0, 2)]).toEqual([0xe9, 0xff]);
  });

  it('writes what fits, then throws ENOSPC with the position at the end', () => {
    const buf = Buffer.alloc(5);
    const f = new FileLike(buf);
    f.write('abc');
    const err = ipcError(() => f.write('defg', 'never'));
    expect(err.code).toBe('ENOSPC');
    expect(err.syscall).toBe('write');
    expect(err.message).toBe('ENOSPC: no space left on device, write');
    expect(buf.toString()).toBe('abcde');
    expect(f.seek()).toBe(5);
  });

  it('respects the logical size set by truncate', () => {
    const buf = Buffer.alloc(8, 0x2e);
    const f = new FileLike(buf);
    f.truncate(3);
    expect(() => f.write('abcd')).toThrow(IpcError);
    expect(buf.toString()).toBe('abc.....');
  });

  it('refuses to write on a read-only handle with EBADF and "permission denied"', () => {
    const f = file('abc', { mode: 'r' });
    const err = ipcError(() => f.write('x'));
    expect(err.code).toBe('EBADF');
    expect(err.errno).toBeLessThan(0);
    expect(err.message).toBe('EBADF: permission denied, write');
    expect(f.read('a')).toBe('abc');
  });

  it('refuses to read on a write-only handle', () => {
    const f = file('abc', { mode: 'w' });
    expect(ipcError(() => f.read()).code).toBe('EBADF');
    expect(() => f.lines().next()).toThrow(IpcError);
    f.write('x');
  });

  it('writes any ArrayBufferView as its bytes in memory', () => {
    const buf = Buffer.alloc(12);
    const f = new FileLike(buf);
    const words = new Uint16Array([0x4241, 0x4443]);
    const view = new DataView(new ArrayBuffer(4), 1, 2);
    view.setUint8(0, 0x45);
    view.setUint8(1, 0x46);
    const floats = new Float32Array([1.5]);
    f.write(words, view, floats);
    const expected = Buffer.concat([
      Buffer.from(words.buffer),
      Buffer.from([0x45, 0x46]),
      Buffer.from(floats.buffer),
    ]);
    expect(buf.subarray(0, 10)).toEqual(expected);
    expect(f.seek()).toBe(10);
  });

  it('rejects values of other types, after writing the ones before', () => {
    const buf = Buffer.alloc(4, 0x2e);
    const f = new FileLike(buf);
    expect(() => f.write('a', {} as unknown as string)).toThrow(
      luaError(
        TypeError,
        'ERR_INVALID_ARG_TYPE',
        "bad argument #2 to 'write' (string, number or ArrayBufferView expected, got object)",
      ),
    );
    expect(buf.toString()).toBe('a...');
  });
});

describe('seek', () => {
  it('moves relative to set, cur and end and returns the position', () => {
    const f = file('0123456789');
    expect(f.seek()).toBe(0);
    expect(f.seek('set', 4)).toBe(4);
    expect(f.seek('cur', 2)).toBe(6);
    expect(f.seek('cur', -6)).toBe(0);
    expect(f.seek('end')).toBe(10);
    expect(f.seek('end', -3)).toBe(7);
    expect(f.read(1)).toBe('7');
  });

  it('throws EINVAL outside [0, size] and keeps the position', () => {
    const f = file('abc');
    f.seek('set', 1);
    expect(ipcError(() => f.seek('set', 4)).code).toBe('EINVAL');
    expect(ipcError(() => f.seek('cur', -2)).message).toBe('EINVAL: invalid argument, seek');
    expect(ipcError(() => f.seek('end', 1)).code).toBe('EINVAL');
    expect(f.seek()).toBe(1);
  });

  it('validates whence and offset', () => {
    const f = file('abc');
    expect(() => f.seek('start' as 'set')).toThrow(
      luaError(
        TypeError,
        'ERR_INVALID_ARG_VALUE',
        "bad argument #1 to 'seek' (invalid option 'start')",
      ),
    );
    expect(() => f.seek('set', 0.5)).toThrow(
      luaError(
        TypeError,
        'ERR_INVALID_ARG_VALUE',
        "bad argument #2 to 'seek' (number has no integer representation)",
      ),
    );
    expect(() => f.seek('set', '1' as unknown as number)).toThrow(
      luaError(
        TypeError,
        'ERR_INVALID_ARG_TYPE',
        "bad argument #2 to 'seek' (number expected, got string)",
      ),
    );
  });
});

describe('size, truncate, setvbuf, flush, close', () => {
  it('shrinks with truncate, clamping the position; growing is a RangeError', () => {
    const f = file('abcdef');
    expect(f.size()).toBe(6);
    f.seek('end');
    expect(f.truncate(4)).toBe(true);
    expect(f.size()).toBe(4);
    expect(f.seek()).toBe(4);
    f.seek('set', 0);
    expect(f.read('a')).toBe('abcd');
    expect(() => f.truncate(5)).toThrow(
      luaError(
        RangeError,
        'ERR_OUT_OF_RANGE',
        "bad argument #1 to 'truncate' (size must be from 0 to 4)",
      ),
    );
    expect(() => f.truncate(-1)).toThrow(RangeError);
    expect(() => f.truncate(Number.NaN)).toThrow(TypeError);
  });

  it('starts at the size option when given', () => {
    const f = new FileLike(Buffer.from('abcdef'), { size: 2 });
    expect(f.read('a')).toBe('ab');
    expect(() => new FileLike(Buffer.alloc(2), { size: 3 })).toThrow(
      expect.objectContaining({
        name: 'RangeError',
        code: 'ERR_OUT_OF_RANGE',
        message:
          'The value of "options.size" is out of range. It must be an integer >= 0 and <= 2. Received 3',
      }),
    );
  });

  it('validates setvbuf modes', () => {
    const f = file('');
    expect(f.setvbuf('no')).toBe(true);
    expect(f.setvbuf('full', 4096)).toBe(true);
    expect(f.setvbuf('line')).toBe(true);
    expect(() => f.setvbuf('all' as 'no')).toThrow(
      luaError(
        TypeError,
        'ERR_INVALID_ARG_VALUE',
        "bad argument #1 to 'setvbuf' (invalid option 'all')",
      ),
    );
    expect(() => f.setvbuf('no', -1)).toThrow(RangeError);
  });

  it('runs the flush hook on flush and the close hook once', () => {
    const onFlush = vi.fn();
    const onClose = vi.fn();
    const f = file('x', { onFlush, onClose });
    expect(f.flush()).toBe(f);
    expect(onFlush).toHaveBeenCalledTimes(1);
    expect(f.closed).toBe(false);
    expect(f.close()).toBe(true);
    expect(f.close()).toBe(true);
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(f.closed).toBe(true);
    expect(String(f)).toBe('file (closed)');
  });

  it('throws ERR_IPC_CLOSED on every use after close', () => {
    const f = file('x');
    f.close();
    const closed = expect.objectContaining({
      code: 'ERR_IPC_CLOSED',
      message: 'attempt to use a closed file',
    });
    for (const use of [
      () => f.read(),
      () => f.lines(),
      () => f.write('x'),
      () => f.seek(),
      () => f.setvbuf('no'),
      () => f.flush(),
      () => f.size(),
      () => f.truncate(0),
    ]) {
      expect(use).toThrow(closed);
    }
  });

  it('closes through using (Symbol.dispose)', () => {
    const onClose = vi.fn();
    {
      using f = file('x', { onClose });
      expect(f.read()).toBe('x');
    }
    expect(onClose).toHaveBeenCalledTimes(1);
  });

  it('validates constructor options', () => {
    expect(() => file('x', { mode: 'a' as 'r' })).toThrow(
      expect.objectContaining({
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_VALUE',
        message: "The property 'options.mode' must be one of 'r', 'w', 'rw'. Received 'a'",
      }),
    );
    expect(() => file('x', { encoding: 'hex' as 'utf8' })).toThrow(
      expect.objectContaining({
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_VALUE',
        message:
          "The property 'options.encoding' must be one of 'utf8', 'latin1', 'buffer'. Received 'hex'",
      }),
    );
    expect(() => new FileLike(Buffer.alloc(1), null as unknown as object)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARG_TYPE',
        message: 'The "options" argument must be of type object. Received null',
      }),
    );
  });
});

describe('stores', () => {
  it('reads and writes through any ByteStore implementation', () => {
    const calls: string[] = [];
    const inner = new MemoryStore(new Uint8Array(Buffer.from('ab\ncd')));
    const store = {
      get byteLength() {
        return inner.byteLength;
      },
      at: (p: number) => inner.at(p),
      indexOf: (b: number, f: number, t: number) => inner.indexOf(b, f, t),
      copy: (s: number, e: number) => inner.copy(s, e),
      decode: (enc: 'utf8' | 'latin1', s: number, e: number) => {
        calls.push(`decode ${s}-${e}`);
        return inner.decode(enc, s, e);
      },
      write: (src: Uint8Array, pos: number) => {
        calls.push(`write ${pos}`);
        inner.write(src, pos);
      },
    };
    const f = new FileLike(store);
    expect(f.read('l')).toBe('ab');
    f.write('X');
    f.seek('set', 0);
    expect(f.read('a')).toBe('ab\nXd');
    expect(calls).toEqual(['decode 0-2', 'write 3', 'decode 0-5']);
  });

  it('stops line scans at the logical size, not the capacity', () => {
    const f = new FileLike(Buffer.from('abc\ndef'), { size: 2 });
    expect(f.read('L')).toBe('ab');
  });
});

describe('IpcError', () => {
  it('is shaped like a Node fs error', () => {
    const e = new IpcError('EEXIST', 'shm_open', { path: 'jobs' });
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('EEXIST');
    expect(e.syscall).toBe('shm_open');
    expect(e.name).toBe('IpcError');
    expect(e.path).toBe('jobs');
    expect(e.message).toBe("EEXIST: file already exists, shm_open 'jobs'"); // libuv's wording, as fs uses
    // What loggers print: the class name, never the object's name.
    expect(String(e)).toBe("IpcError: EEXIST: file already exists, shm_open 'jobs'");
    expect(String(e.stack).startsWith('IpcError: EEXIST')).toBe(true);
    expect(Object.keys(e)).toEqual(expect.arrayContaining(['code', 'errno', 'syscall', 'path']));
  });

  it('matches the errno numbers Node uses', async () => {
    const fs = await import('node:fs');
    let nodeErr: NodeJS.ErrnoException | undefined;
    try {
      fs.openSync('/definitely/not/here', 'r');
    } catch (err) {
      nodeErr = err as NodeJS.ErrnoException;
    }
    const e = IpcError.fromErrno(-(nodeErr?.errno ?? 0), 'open', { path: '/definitely/not/here' });
    expect(e.code).toBe(nodeErr?.code);
    expect(e.errno).toBe(nodeErr?.errno);
    expect(e.path).toBe('/definitely/not/here');
    expect(e.name).toBe('IpcError');
    expect(e.message).toBe(nodeErr?.message);
  });

  it('describes codes the libuv of Node 20 has no text for (ENOEXEC, ECHILD)', () => {
    expect(new IpcError('ENOEXEC', 'posix_spawn', { path: './script' }).message).toBe(
      "ENOEXEC: exec format error, posix_spawn './script'",
    );
    expect(IpcError.fromErrno(constants.errno.ECHILD, 'waitpid').message).toBe(
      'ECHILD: no child processes, waitpid',
    );
  });

  it('accepts negative errno and names unknown numbers', () => {
    expect(IpcError.fromErrno(-17, 'sem_open').code).toBe('EEXIST');
    expect(IpcError.fromErrno(99999, 'x').code).toBe('E99999');
  });
});

describe('IpcError across builds', () => {
  it('is recognised by instanceof in both the ESM and the CommonJS build', async () => {
    const { createRequire } = await import('node:module');
    const require = createRequire(import.meta.url);
    const cjs = require('@luaipc/filelike') as typeof import('../src/index.js');
    const esm = (await import('@luaipc/filelike')) as unknown as typeof import('../src/index.js');
    const fromCjs = new cjs.IpcError('ENOENT', 'shm_open', { path: 'x' });
    expect(fromCjs).toBeInstanceOf(esm.IpcError);
    expect(new esm.IpcError('EINVAL', 'seek')).toBeInstanceOf(cjs.IpcError);
    expect(new Error('EINVAL')).not.toBeInstanceOf(esm.IpcError);
    expect(null).not.toBeInstanceOf(esm.IpcError);
  });
});

describe('readAhead (a store that changes under the handle, read like a stdio buffer)', () => {
  // Another process writing into shared memory, seen as a change of the Buffer under the store.
  const shared = (text: string) => {
    const bytes = Buffer.from(text, 'latin1');
    return { bytes, f: new FileLike(new MemoryStore(bytes), { readAhead: true }) };
  };
  const overwrite = (bytes: Buffer, at: number, text: string) => bytes.write(text, at, 'latin1');

  it('serves later lines from what it read ahead, until a seek, flush or setvbuf drops it', () => {
    for (const drop of [
      (f: FileLike) => f.seek(),
      (f: FileLike) => f.seek('set', 8),
      (f: FileLike) => f.flush(),
      (f: FileLike) => f.setvbuf('full'),
    ]) {
      const { bytes, f } = shared('one\ntwo\nsix\n');
      expect(f.read('l')).toBe('one');
      overwrite(bytes, 4, 'TWO');
      expect(f.read('l')).toBe('two');
      overwrite(bytes, 8, 'SIX');
      drop(f);
      expect(f.read('l')).toBe('SIX');
    }
  });

  it("setvbuf('no') reads every line from the store; 'line' and 'full' read ahead again", () => {
    const { bytes, f } = shared('a1\nb1\nc1\nd1\n');
    expect(f.setvbuf('no')).toBe(true);
    expect(f.read('l')).toBe('a1');
    overwrite(bytes, 3, 'b2');
    expect(f.read('l')).toBe('b2');
    f.setvbuf('line');
    expect(f.read('l')).toBe('c1');
    overwrite(bytes, 9, 'd2');
    expect(f.read('l')).toBe('d1');
  });

  it('own writes and truncate drop it; without the option every read sees the store', () => {
    const { bytes, f } = shared('xx\nyy\nzz\n');
    expect(f.read('l')).toBe('xx');
    f.write('YY');
    f.seek('set', 0);
    expect([...f.lines()]).toEqual(['xx', 'YY', 'zz']);
    const plain = new FileLike(new MemoryStore(bytes));
    expect(plain.read('l')).toBe('xx');
    overwrite(bytes, 3, 'ab');
    expect(plain.read('l')).toBe('ab');
  });
});
