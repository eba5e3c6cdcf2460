import { statSync } from 'node:fs';
import { nodeArgValueReceived, nodeRangeReceived } from '@luaipc/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { addon } from '../src/binding.js';
import { attach, create, FileLike, MAX_SIZE, SharedMemory, unlink } from '../src/index.js';
import {
  cleanup,
  exists,
  expectClosed,
  fixture,
  ipcError,
  parseOk,
  runNode,
  shmPath,
  uniqueName,
} from './helpers.js';

afterEach(cleanup);

describe('create', () => {
  it('makes /dev/shm/<name>, mode 0600, of the requested size, zero-filled', () => {
    const name = uniqueName();
    const h = create(name, 5000);
    try {
      expect(h).toBeInstanceOf(SharedMemory);
      expect(h).toBeInstanceOf(FileLike);
      const st = statSync(shmPath(name));
      expect(st.mode & 0o777).toBe(0o600);
      expect(st.size).toBe(5000);
      // The pages are reserved up front (posix_fallocate), not on first touch.
      // Reserved at create (posix_fallocate), except in the portable build (macOS has none).
      if (process.env.LUAIPC_ADDON_DIR !== 'build-portable') {
        expect(st.blocks * 512).toBeGreaterThanOrEqual(5000);
      }
      expect(h.size()).toBe(5000);
      expect(h.buffer.length).toBe(5000);
      expect(h.buffer.every((b) => b === 0)).toBe(true);
      expect(h.name).toBe(name);
      expect(h.creator).toBe(true);
    } finally {
      h.close();
    }
  });

  it('fails EEXIST on an existing name and leaves the existing segment alone', () => {
    const name = uniqueName();
    const h = create(name, 100);
    try {
      h.write('keep');
      const e = ipcError(() => create(name, 200));
      expect(e.code).toBe('EEXIST');
      expect(e.errno).toBe(-17);
      expect(e.syscall).toBe('shm_open');
      expect(e.path).toBe(name);
      expect(e.message).toBe(`EEXIST: file already exists, shm_open '${name}'`);
      expect(String(e)).toBe(`IpcError: EEXIST: file already exists, shm_open '${name}'`);
      expect(statSync(shmPath(name)).size).toBe(100);
      expect(h.buffer.toString('latin1', 0, 4)).toBe('keep');
    } finally {
      h.close();
    }
  });

  it("the creator's close() removes the name; an attached handle keeps its mapping", () => {
    const name = uniqueName();
    const creator = create(name, 64);
    const other = attach(name);
    creator.write('still here\n');
    expect(creator.close()).toBe(true);
    expect(exists(name)).toBe(false);
    expect(other.read('l')).toBe('still here');
    other.seek('set');
    other.write('written after');
    expect(other.buffer.toString('latin1', 0, 13)).toBe('written after');
    expect(ipcError(() => attach(name)).code).toBe('ENOENT');
    other.close();
  });

  it("an attached handle's close() leaves the name", () => {
    const name = uniqueName();
    const creator = create(name, 64);
    attach(name).close();
    expect(exists(name)).toBe(true);
    creator.close();
    expect(exists(name)).toBe(false);
  });

  it('close() is idempotent and Symbol.dispose closes', () => {
    const name = uniqueName();
    const h = create(name, 10);
    h[Symbol.dispose]();
    expect(h.closed).toBe(true);
    expect(exists(name)).toBe(false);
    expect(h.close()).toBe(true);
    expect(h.close()).toBe(true);
    expect(h.toString()).toBe('file (closed)');
  });

  it('close() of a creator whose name was already unlinked does not throw', () => {
    const name = uniqueName();
    const h = create(name, 10);
    expect(unlink(name)).toBeUndefined();
    expect(exists(name)).toBe(false);
    expect(() => h.close()).not.toThrow();
  });

  it("close() removes only the creator's own name", () => {
    const a = uniqueName();
    const b = uniqueName();
    const ha = create(a, 10);
    const hb = create(b, 10);
    ha.close();
    expect(exists(a)).toBe(false);
    expect(exists(b)).toBe(true);
    hb.close();
  });
});

describe('attach', () => {
  it('fails ENOENT on a missing name', () => {
    const name = uniqueName();
    const e = ipcError(() => attach(name));
    expect(e.code).toBe('ENOENT');
    expect(e.syscall).toBe('shm_open');
    expect(e.path).toBe(name);
    expect(e.message).toBe(`ENOENT: no such file or directory, shm_open '${name}'`);
  });

  it('maps the current size (fstat) and sees the same bytes both ways', () => {
    const name = uniqueName();
    const a = create(name, 12345);
    const b = attach(name);
    try {
      expect(b.size()).toBe(12345);
      expect(b.buffer.length).toBe(12345);
      expect(b.creator).toBe(false);
      a.write('from a\n', 42, '\n');
      expect(b.read('l', 'n')).toEqual(['from a', 42]);
      b.seek('set', 100);
      b.write(Buffer.from([1, 2, 3]));
      expect([...a.buffer.subarray(100, 103)]).toEqual([1, 2, 3]);
      b.buffer.writeUInt32LE(0xdeadbeef, 12340);
      a.seek('set', 12340);
      expect(a.read(4)).toBe(Buffer.from([0xef, 0xbe, 0xad, 0xde]).toString());
      expect(a.buffer.readUInt32LE(12340)).toBe(0xdeadbeef);
      // Two mappings of the same memory, at two addresses.
      expect(a.addr()).not.toBe(b.addr());
    } finally {
      b.close();
      a.close();
    }
  });

  it('fails EFBIG on a segment larger than a Buffer can view (MAX_SIZE)', async () => {
    const name = uniqueName();
    const { execFileSync } = await import('node:child_process');
    // Sparse on tmpfs: no memory is used. Python sizes it: from Node 22 on, MAX_SIZE is 2^53 - 1
    // and one byte more is past what Node's ftruncate accepts.
    const size = String(BigInt(MAX_SIZE) + 1n);
    execFileSync('python3', [
      '-c',
      'import os, sys\nfd = os.open(sys.argv[1], os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)\nos.ftruncate(fd, int(sys.argv[2]))',
      shmPath(name),
      size,
    ]);
    expect(String(statSync(shmPath(name)).size)).toBe(size);
    const e = ipcError(() => attach(name));
    expect(e.code).toBe('EFBIG');
    expect(e.syscall).toBe('mmap');
    expect(e.path).toBe(name);
  });

  it('fails EINVAL on a segment of size 0 (nothing to map)', async () => {
    const name = uniqueName();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(shmPath(name), '', { mode: 0o600 });
    const e = ipcError(() => attach(name));
    expect(e.code).toBe('EINVAL');
    expect(e.syscall).toBe('mmap');
  });
});

describe('unlink', () => {
  it('removes a name; open handles keep working', () => {
    const name = uniqueName();
    const h = create(name, 16);
    expect(unlink(name)).toBeUndefined();
    expect(exists(name)).toBe(false);
    h.write('ok');
    expect(h.buffer.toString('latin1', 0, 2)).toBe('ok');
    h.close();
  });

  it('is also SharedMemory.unlink', () => {
    const name = uniqueName();
    const h = create(name, 16);
    SharedMemory.unlink(name);
    expect(exists(name)).toBe(false);
    expect(ipcError(() => SharedMemory.unlink(name)).code).toBe('ENOENT');
    h.close();
  });

  it('fails ENOENT on a missing name', () => {
    const name = uniqueName();
    const e = ipcError(() => unlink(name));
    expect(e.code).toBe('ENOENT');
    expect(e.syscall).toBe('shm_unlink');
    expect(e.path).toBe(name);
  });
});

describe('handle', () => {
  it('addr() is a page-aligned bigint, stable, and throws after close', () => {
    const h = create(uniqueName(), 100);
    const addr = h.addr();
    expect(typeof addr).toBe('bigint');
    expect(addr).toBeGreaterThan(0n);
    expect(addr % 4096n).toBe(0n);
    expect(h.addr()).toBe(addr);
    h.close();
    expectClosed(() => h.addr());
  });

  it('buffer is the same zero-copy Buffer each time and covers the whole mapping', () => {
    const h = create(uniqueName(), 100);
    const b = h.buffer;
    expect(Buffer.isBuffer(b)).toBe(true);
    expect(h.buffer).toBe(b);
    expect(h.buffer.buffer).toBe(b.buffer);
    h.truncate(10);
    expect(h.size()).toBe(10);
    expect(h.buffer.length).toBe(100);
    b[5] = 0x41;
    h.seek('set', 5);
    expect(h.read(1)).toBe('A');
    h.close();
  });

  it('after close the getter throws, but Buffers taken before stay valid and shared', () => {
    const name = uniqueName();
    const h = create(name, 4096);
    const other = attach(name);
    const b = h.buffer;
    const view = new Uint8Array(b.buffer, 0, 16);
    h.close();
    expectClosed(() => h.buffer);
    expect(exists(name)).toBe(false);
    expect(b.length).toBe(4096);
    expect(view.length).toBe(16);
    // Still the segment: writes go both ways.
    b.write('after close');
    expect(other.buffer.toString('latin1', 0, 11)).toBe('after close');
    other.buffer[20] = 0x42;
    expect(b[20]).toBe(0x42);
    expect(view[0]).toBe('a'.charCodeAt(0));
    other.close();
    expect(b.toString('latin1', 0, 5)).toBe('after');
  });

  it('the mapping cannot be transferred to another thread', async () => {
    const h = create(uniqueName(), 64);
    h.buffer.write('stay');
    const { MessageChannel } = await import('node:worker_threads');
    const { port1, port2 } = new MessageChannel();
    const got = new Promise<Uint8Array>((resolve) => port2.once('message', resolve));
    try {
      port1.postMessage(h.buffer, [h.buffer.buffer as ArrayBuffer]);
    } catch {
      // Node 21+ refuses outright; Node 20 copies instead of transferring.
    }
    port1.postMessage(h.buffer);
    const copy = await got;
    expect(Buffer.from(copy).toString('latin1', 0, 4)).toBe('stay');
    expect(h.buffer.length).toBe(64);
    expect(h.buffer.toString('latin1', 0, 4)).toBe('stay');
    port1.close();
    port2.close();
    h.close();
  });

  it('the constructor is not public', () => {
    const h = create(uniqueName(), 8);
    const Ctor = SharedMemory as unknown as new (...args: unknown[]) => unknown;
    for (const args of [[], [Symbol('x'), {}, 'n', 'utf8', false]]) {
      let caught: unknown;
      try {
        new Ctor(...args);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(TypeError);
      expect((caught as { code?: string }).code).toBe('ERR_ILLEGAL_CONSTRUCTOR');
      expect((caught as Error).message).toBe(
        'Illegal constructor: SharedMemory handles are made by create() and attach()',
      );
    }
    h.close();
  });

  it('truncated is false until another process shrinks the segment; throws after close', () => {
    const h = create(uniqueName(), 64);
    expect(h.truncated).toBe(false);
    h.close();
    expectClosed(() => h.truncated);
  });
});

describe('FileLike methods on a shm handle', () => {
  it('reads every format and lines', () => {
    const h = create(uniqueName(), 64);
    h.write('0x10 2.5e1 word\nsecond\nthird');
    h.truncate(h.seek());
    h.seek('set');
    expect(h.read('n', 'n')).toEqual([16, 25]);
    expect(h.read('L')).toBe(' word\n');
    expect(h.read(3)).toBe('sec');
    expect(h.read(0)).toBe('');
    expect(h.read()).toBe('ond');
    expect(h.read('a')).toBe('third');
    expect(h.read('a')).toBe('');
    expect(h.read('l')).toBeNull();
    expect(h.read(0)).toBeNull();
    h.seek('set');
    expect([...h.lines()]).toEqual(['0x10 2.5e1 word', 'second', 'third']);
    h.seek('set');
    expect([...h.lines('n')]).toEqual([16, 25]);
    h.close();
  });

  it("reads the rest of the mapping with 'a' (NULs included) until truncate()", () => {
    const h = create(uniqueName(), 8);
    h.write('ab');
    h.seek('set');
    expect(h.read('a')).toBe('ab\0\0\0\0\0\0');
    h.truncate(2);
    h.seek('set');
    expect(h.read('a')).toBe('ab');
    h.close();
  });

  it('writes strings, numbers and bytes, and seeks', () => {
    const h = create(uniqueName(), 32);
    expect(h.write('x=', 1.5, ' ', 7, ' ', 2n ** 40n, Buffer.from('!'))).toBe(h);
    expect(h.seek()).toBe(22);
    expect(h.buffer.toString('latin1', 0, 22)).toBe('x=1.5 7 1099511627776!');
    expect(h.seek('end', -2)).toBe(30);
    expect(h.seek('set', 2)).toBe(2);
    expect(h.read('n')).toBe(1.5);
    expect(ipcError(() => h.seek('set', 33)).code).toBe('EINVAL');
    expect(ipcError(() => h.seek('cur', -100)).code).toBe('EINVAL');
    expect(h.seek()).toBe(5);
    h.close();
  });

  it('writes any ArrayBufferView as its bytes in memory', () => {
    const h = create(uniqueName(), 64, { encoding: 'buffer' });
    h.write(new Uint16Array([0x4241, 0x4443]), new DataView(new Uint8Array([0x45]).buffer));
    h.write(new Float64Array([1.5]), new Uint8Array([0x46]).subarray(0, 1));
    expect(h.seek()).toBe(14);
    h.seek('set');
    const bytes = h.read(14) as Buffer;
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('ABCDE');
    expect(bytes.readDoubleLE(5)).toBe(1.5);
    expect(bytes[13]).toBe(0x46);
    h.close();
  });

  it('ENOSPC when writing past the end: writes what fits', () => {
    const name = uniqueName();
    const h = create(name, 10);
    h.seek('set', 6);
    const e = ipcError(() => h.write('abcdef'));
    expect(e.code).toBe('ENOSPC');
    expect(h.seek()).toBe(10);
    expect(h.buffer.toString('latin1', 6, 10)).toBe('abcd');
    // The logical end after truncate() is the limit too.
    h.truncate(4);
    expect(h.seek()).toBe(4);
    expect(ipcError(() => h.write('z')).code).toBe('ENOSPC');
    h.close();
  });

  it('truncate() shrinks the logical size only; growing throws RangeError', () => {
    const name = uniqueName();
    const h = create(name, 100);
    const other = attach(name);
    expect(h.truncate(40)).toBe(true);
    expect(h.size()).toBe(40);
    expect(other.size()).toBe(100);
    expect(statSync(shmPath(name)).size).toBe(100);
    expect(() => h.truncate(41)).toThrow(RangeError);
    expect(() => h.truncate(1.5)).toThrow(TypeError);
    other.close();
    h.close();
  });

  it('setvbuf and flush work and validate', () => {
    const h = create(uniqueName(), 8);
    expect(h.setvbuf('full', 1024)).toBe(true);
    expect(h.flush()).toBe(h);
    expect(() => h.setvbuf('bogus' as 'no')).toThrow(TypeError);
    h.close();
  });

  it('the handle type follows the encoding', () => {
    const name = uniqueName();
    const plain: SharedMemory<string> = create(name, 8, {});
    const bytes: SharedMemory<Buffer> = attach(name, { encoding: 'buffer' });
    const latin: SharedMemory<string> = attach(name, { encoding: 'latin1' });
    plain.write('ab\n');
    expect(typeof latin.read('l')).toBe('string');
    expect(Buffer.isBuffer(bytes.read('l'))).toBe(true);
    for (const h of [bytes, latin, plain]) h.close();
  });

  it('encodings: latin1 byte-exact, buffer gives Buffers', () => {
    const name = uniqueName();
    const h = create(name, 4, { encoding: 'latin1' });
    h.write('\xff\xfe\n');
    h.seek('set');
    expect(h.read('l')).toBe('\xff\xfe');
    const b = attach(name, { encoding: 'buffer' });
    const line = b.read('L');
    expect(Buffer.isBuffer(line)).toBe(true);
    expect([...(line as Buffer)]).toEqual([0xff, 0xfe, 0x0a]);
    // Reads copy: later writes do not change a value already read.
    h.buffer[0] = 0;
    expect([...(line as Buffer)]).toEqual([0xff, 0xfe, 0x0a]);
    b.close();
    h.close();
  });

  it('wrong arguments to the file methods throw, as for any FileLike', () => {
    const h = create(uniqueName(), 8);
    const any = h as unknown as Record<string, (...a: unknown[]) => unknown>;
    expect(() => any.read?.('x')).toThrow(TypeError);
    expect(() => any.read?.(-1)).toThrow(RangeError);
    expect(() => any.read?.(1.5)).toThrow(TypeError);
    expect(() => any.lines?.({})).toThrow(TypeError);
    expect(() => any.write?.({})).toThrow(TypeError);
    expect(() => any.write?.(null)).toThrow(TypeError);
    expect(() => any.seek?.('bogus')).toThrow(TypeError);
    expect(() => any.seek?.('set', '1')).toThrow(TypeError);
    expect(() => any.seek?.('set', 0.5)).toThrow(TypeError);
    expect(() => any.truncate?.(-1)).toThrow(RangeError);
    expect(() => any.truncate?.('1')).toThrow(TypeError);
    expect(() => any.setvbuf?.('full', -1)).toThrow(RangeError);
    expect(h.seek()).toBe(0);
    expect(h.size()).toBe(8);
    h.close();
  });

  it('every method throws ERR_IPC_CLOSED after close', () => {
    const h = create(uniqueName(), 8);
    h.close();
    expectClosed(() => h.read());
    expectClosed(() => h.read('n'));
    expectClosed(() => h.lines());
    expectClosed(() => h.write('x'));
    expectClosed(() => h.seek());
    expectClosed(() => h.setvbuf('no'));
    expectClosed(() => h.flush());
    expectClosed(() => h.size());
    expectClosed(() => h.truncate(1));
    expectClosed(() => h.addr());
    expectClosed(() => h.buffer);
    expectClosed(() => h.truncated);
  });

  it('a lines() iterator stops working once the handle is closed', () => {
    const h = create(uniqueName(), 8);
    h.write('a\nb\n');
    h.seek('set');
    const it = h.lines();
    expect(it.next().value).toBe('a');
    h.close();
    expectClosed(() => it.next());
  });
});

describe('bad input never crashes', () => {
  const invalid = (v: string, why: string) =>
    `The argument 'name' ${why}.${nodeArgValueReceived(v)}`;
  const names: [unknown, string, string][] = [
    [
      undefined,
      'ERR_INVALID_ARG_TYPE',
      'The "name" argument must be of type string. Received undefined',
    ],
    [null, 'ERR_INVALID_ARG_TYPE', 'The "name" argument must be of type string. Received null'],
    [
      42,
      'ERR_INVALID_ARG_TYPE',
      'The "name" argument must be of type string. Received type number (42)',
    ],
    [
      {},
      'ERR_INVALID_ARG_TYPE',
      'The "name" argument must be of type string. Received an instance of Object',
    ],
    [
      ['a'],
      'ERR_INVALID_ARG_TYPE',
      'The "name" argument must be of type string. Received an instance of Array',
    ],
    [
      Symbol('s'),
      'ERR_INVALID_ARG_TYPE',
      'The "name" argument must be of type string. Received type symbol (Symbol(s))',
    ],
    ['', 'ERR_INVALID_ARG_VALUE', invalid('', 'must not be empty')],
    ['.', 'ERR_INVALID_ARG_VALUE', invalid('.', "must not be '.' or '..'")],
    ['..', 'ERR_INVALID_ARG_VALUE', invalid('..', "must not be '.' or '..'")],
    ['a/b', 'ERR_INVALID_ARG_VALUE', invalid('a/b', "must not contain '/'")],
    ['/lead', 'ERR_INVALID_ARG_VALUE', invalid('/lead', "must not contain '/'")],
    ['nul\0byte', 'ERR_INVALID_ARG_VALUE', invalid('nul\0byte', 'must not contain null bytes')],
  ];

  for (const [value, code, message] of names) {
    it(`names: ${typeof value === 'symbol' ? 'symbol' : JSON.stringify(value)}`, () => {
      const c = create as (...a: unknown[]) => unknown;
      const a = attach as (...a: unknown[]) => unknown;
      const u = unlink as (...a: unknown[]) => unknown;
      for (const call of [() => c(value, 10), () => a(value), () => u(value)]) {
        let caught: unknown;
        try {
          call();
        } catch (e) {
          caught = e;
        }
        expect(caught).toBeInstanceOf(TypeError);
        expect((caught as { code?: string }).code).toBe(code);
        expect((caught as Error).message).toBe(message);
      }
    });
  }

  it("names starting 'sem.' are refused on Linux: they are glibc's semaphores", async () => {
    const { open } = await import('@luaipc/sem');
    const base = uniqueName('sem');
    const sem = open(base, 3);
    try {
      expect(exists(`sem.${base}`)).toBe(true);
      for (const call of [
        () => attach(`sem.${base}`),
        () => create(`sem.${base}x`, 10),
        () => unlink(`sem.${base}`),
      ]) {
        let caught: unknown;
        try {
          call();
        } catch (e) {
          caught = e;
        }
        expect(caught).toBeInstanceOf(TypeError);
        expect((caught as { code?: string }).code).toBe('ERR_INVALID_ARG_VALUE');
        expect((caught as Error).message).toMatch(
          /^The argument 'name' must not start with 'sem\.' \(on Linux .*semaphore/,
        );
      }
      // The semaphore is untouched.
      expect(exists(`sem.${base}`)).toBe(true);
      expect(sem.tryDec()).toBe(true);
      // 'sem' without the dot, or elsewhere in the name, is an ordinary name.
      const plain = create(`${base}.sem.x`, 10);
      plain.close();
    } finally {
      sem.close();
    }
  });

  it('names longer than the OS allows fail ENAMETOOLONG up front; the limit itself works', () => {
    const max = addon.NAME_MAX;
    expect(max).toBe(254);
    const tooLong = `x${uniqueName()}`.padEnd(max + 1, 'z');
    for (const fn of [() => create(tooLong, 10), () => attach(tooLong)]) {
      const e = ipcError(fn);
      expect(e.code).toBe('ENAMETOOLONG');
      expect(e.syscall).toBe('shm_open');
      expect(e.path).toBe(tooLong);
    }
    const u = ipcError(() => unlink(tooLong));
    expect(u.code).toBe('ENAMETOOLONG');
    expect(u.syscall).toBe('shm_unlink');
    // Length counts UTF-8 bytes: 127 two-byte characters are 254 bytes, 128 are too many.
    expect(ipcError(() => create('é'.repeat(128), 10)).code).toBe('ENAMETOOLONG');

    const longest = uniqueName().padEnd(max, 'y');
    const h = create(longest, 10);
    expect(exists(longest)).toBe(true);
    h.close();
    expect(exists(longest)).toBe(false);
  });

  it('names may hold any other characters (UTF-8 on disk)', () => {
    const name = `${uniqueName()}-é ü *?`;
    const h = create(name, 10);
    expect(exists(name)).toBe(true);
    expect(attach(name).size()).toBe(10);
    h.close();
    expect(exists(name)).toBe(false);
  });

  const range = (v: number) =>
    `The value of "size" is out of range. It must be an integer >= 1 and <= ${MAX_SIZE}.${nodeRangeReceived(v)}`;
  const sizes: [unknown, typeof TypeError | typeof RangeError, string][] = [
    [undefined, TypeError, 'The "size" argument must be of type number. Received undefined'],
    ['10', TypeError, `The "size" argument must be of type number. Received type string ('10')`],
    [10n, TypeError, 'The "size" argument must be of type number. Received type bigint (10n)'],
    [null, TypeError, 'The "size" argument must be of type number. Received null'],
    [Number.NaN, RangeError, range(Number.NaN)],
    [1.5, RangeError, range(1.5)],
    [Number.POSITIVE_INFINITY, RangeError, range(Number.POSITIVE_INFINITY)],
    [0, RangeError, range(0)],
    [-1, RangeError, range(-1)],
    [MAX_SIZE + 1, RangeError, range(MAX_SIZE + 1)],
    [2 ** 64, RangeError, range(2 ** 64)],
  ];
  // Node 20 limits a Buffer to 4 GiB, so this size is out of range there; from Node 22 on it is
  // MAX_SIZE itself, in range, and no machine has that much memory.
  if (Number.MAX_SAFE_INTEGER > MAX_SIZE) {
    sizes.push([Number.MAX_SAFE_INTEGER, RangeError, range(Number.MAX_SAFE_INTEGER)]);
  } else {
    it('size Number.MAX_SAFE_INTEGER (= MAX_SIZE) fails and leaves no name behind', () => {
      const name = uniqueName();
      const e = ipcError(() => create(name, Number.MAX_SAFE_INTEGER));
      // Reserving the pages fails first; the portable build reserves none, so mmap does.
      const portable = process.env.LUAIPC_ADDON_DIR === 'build-portable';
      expect([e.code, e.syscall]).toEqual(
        portable ? ['ENOMEM', 'mmap'] : ['ENOSPC', 'posix_fallocate'],
      );
      expect(e.path).toBe(name);
      expect(exists(name)).toBe(false);
    });
  }

  for (const [size, type, message] of sizes) {
    it(`size ${typeof size === 'bigint' ? `${size}n` : typeof size === 'string' ? `'${size}'` : String(size)}`, () => {
      const name = uniqueName();
      const c = create as (...a: unknown[]) => unknown;
      let caught: unknown;
      try {
        c(name, size);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(type);
      expect((caught as Error).message).toBe(message);
      expect(exists(name)).toBe(false);
    });
  }

  it('options: wrong types and encodings are rejected before anything is created', () => {
    const name = uniqueName();
    const c = create as (...a: unknown[]) => unknown;
    const a = attach as (...a: unknown[]) => unknown;
    const typeError = (fn: () => unknown, code: string, message: string) => {
      let caught: unknown;
      try {
        fn();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(TypeError);
      expect((caught as { code?: string }).code).toBe(code);
      expect((caught as Error).message).toBe(message);
    };
    typeError(
      () => c(name, 10, 'utf8'),
      'ERR_INVALID_ARG_TYPE',
      `The "options" argument must be of type object. Received type string ('utf8')`,
    );
    typeError(
      () => c(name, 10, null),
      'ERR_INVALID_ARG_TYPE',
      'The "options" argument must be of type object. Received null',
    );
    typeError(
      () => c(name, 10, { encoding: 'hex' }),
      'ERR_INVALID_ARG_VALUE',
      `The property 'options.encoding' must be one of 'utf8', 'latin1', 'buffer'. Received 'hex'`,
    );
    expect(exists(name)).toBe(false);
    const h = create(name, 10);
    typeError(
      () => a(name, 5),
      'ERR_INVALID_ARG_TYPE',
      'The "options" argument must be of type object. Received type number (5)',
    );
    typeError(
      () => a(name, { encoding: 'ucs2' }),
      'ERR_INVALID_ARG_VALUE',
      `The property 'options.encoding' must be one of 'utf8', 'latin1', 'buffer'. Received 'ucs2'`,
    );
    h.close();
  });

  it('the raw addon never crashes on garbage arguments (it leaves checking to TypeScript)', async () => {
    const out = parseOk(
      await runNode(fixture('garbage.mjs'), [uniqueName('junk')], { timeoutMs: 60_000 }),
    );
    expect(out.calls).toBeGreaterThan(100);
    expect(out.leftover).toEqual([]);
  });
});
