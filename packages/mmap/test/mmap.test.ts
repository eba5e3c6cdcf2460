import { constants as bufferConstants } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { addon } from '../src/binding.js';
import { FileLike, MAX_SIZE, MappedFile, open, pagesize } from '../src/index.js';
import {
  cleanup,
  expectClosed,
  fixture,
  ipcError,
  parseOk,
  runChild,
  tempFile,
  tempPath,
} from './helpers.js';

afterEach(cleanup);

const text = (lines: number) => Array.from({ length: lines }, (_, i) => `line ${i}\n`).join('');

describe('pagesize and limits', () => {
  it("is the system's page size, as getconf and Python's mmap report it", () => {
    expect(pagesize).toBe(Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' })));
    expect(
      Number(
        execFileSync('python3', ['-c', 'import mmap; print(mmap.PAGESIZE)'], { encoding: 'utf8' }),
      ),
    ).toBe(pagesize);
    // The longest Buffer: 4 GiB on Node 20, 2^53 - 1 bytes from Node 22 on.
    expect(MAX_SIZE).toBe(bufferConstants.MAX_LENGTH);
  });
});

describe("open(path) in mode 'r'", () => {
  it('maps the whole file: Lua reads, lines, size, addr and a Buffer over the bytes', () => {
    const content = `3 4.5 0x10\nname: Ada\n${text(100)}`;
    const path = tempFile(content);
    const h = open(path);
    try {
      expect(h).toBeInstanceOf(MappedFile);
      expect(h).toBeInstanceOf(FileLike);
      expect([h.path, h.mode, h.offset]).toEqual([path, 'r', 0]);
      expect(h.size()).toBe(content.length);
      expect(h.read('n', 'n', 'n')).toEqual([3, 4.5, 16]);
      expect(h.read('L')).toBe('\n');
      expect(h.read('l')).toBe('name: Ada');
      expect([...h.lines()]).toEqual(text(100).trimEnd().split('\n'));
      expect(h.read('a')).toBe('');
      expect(h.read('l')).toBeNull();
      const addr = h.addr();
      expect(typeof addr).toBe('bigint');
      expect(addr % BigInt(pagesize)).toBe(0n);
      expect(h.buffer).toBe(h.buffer);
      expect(h.buffer.toString()).toBe(content);
      expect(String(h)).toBe(`file (${content.length} bytes)`);
    } finally {
      h.close();
    }
  });

  it("refuses Lua writes (EBADF, as LuaIPC's mmapcat shows) and never changes the file", () => {
    const path = tempFile('keep me\n');
    const h = open(path, 'r');
    const e = ipcError(() => h.write('xxx'));
    expect([e.code, e.syscall, e.message]).toEqual([
      'EBADF',
      'write',
      'EBADF: permission denied, write',
    ]);
    expect(h.read('a')).toBe('keep me\n');
    h.close();
    expect(readFileSync(path, 'utf8')).toBe('keep me\n');
  });

  it('writes into its buffer stay private: this handle sees them, the file and other mappings do not', () => {
    const content = text(2000); // several pages
    const path = tempFile(content);
    const r = open(path, 'r');
    const other = open(path, 'r');
    const shared = open(path, 'rw');
    try {
      r.buffer.write('PRIV', 0);
      r.buffer[pagesize + 1] = 0x21;
      expect(r.read('l')).toBe('PRIV 0');
      expect(r.buffer[pagesize + 1]).toBe(0x21);
      expect(other.read('l')).toBe('line 0');
      expect(shared.buffer.toString('latin1', 0, 7)).toBe('line 0\n');
      expect(readFileSync(path, 'latin1')).toBe(content);
      // A page it never wrote still shows what others write to the file.
      const far = 3 * pagesize;
      shared.buffer.write('SHARED', far);
      expect(r.buffer.toString('latin1', far, far + 6)).toBe('SHARED');
      // The page it wrote is its own copy now.
      shared.buffer.write('AGAIN!', 0);
      expect(r.buffer.toString('latin1', 0, 6)).toBe('PRIV 0');
      r.flush(); // nothing to write back
      expect(readFileSync(path, 'latin1').slice(0, 6)).toBe('AGAIN!');
    } finally {
      r.close();
      other.close();
      shared.close();
    }
  });

  it('maps a file this user may only read; w and rw are EACCES (root without its file capabilities)', async () => {
    const path = tempFile('read only\n');
    chmodSync(path, 0o444);
    // Root reads and writes whatever the mode bits say (CAP_DAC_OVERRIDE): without that
    // capability it is held to them like any user (and can still reach its own checkout).
    const asUser =
      process.getuid?.() === 0
        ? ['setpriv', ['--bounding-set=-dac_override,-dac_read_search', '--', process.execPath]]
        : [process.execPath, []];
    const [command, prefix] = asUser as [string, string[]];
    const r = await runChild(command, [...prefix, fixture('perms.mjs'), path]);
    expect(parseOk(r)).toEqual({
      read: 'read only',
      afterStore: 'Read only',
      w: 'EACCES open',
      rw: 'EACCES open',
    });
    expect(readFileSync(path, 'utf8')).toBe('read only\n');
  });
});

describe("modes 'rw' and 'w'", () => {
  it("'rw': Lua writes and buffer writes reach the file, and the file's size never changes", () => {
    const path = tempFile(text(10));
    const h = open(path, 'rw');
    try {
      expect(h.mode).toBe('rw');
      h.write('LINE', 0, '\n');
      expect(h.flush()).toBe(h);
      expect(readFileSync(path, 'utf8').split('\n')[0]).toBe('LINE0');
      h.buffer.write('!', 5);
      expect(readFileSync(path, 'utf8').slice(0, 8)).toBe('LINE0!\nl');
      h.seek('set');
      expect(h.read('l')).toBe('LINE0!');
      // Writing past the end of the mapping writes what fits and throws ENOSPC.
      h.seek('end', -3);
      const e = ipcError(() => h.write('abcdef'));
      expect(e.code).toBe('ENOSPC');
      expect(readFileSync(path, 'utf8').slice(-3)).toBe('abc');
      expect(statSync(path).size).toBe(text(10).length);
    } finally {
      h.close();
    }
  });

  it("'w': the handle only writes (reads throw EBADF, as in LuaIPC); its buffer still reads", () => {
    const path = tempFile('0123456789\n');
    const h = open(path, 'w');
    try {
      expect(h.mode).toBe('w');
      for (const read of [() => h.read(), () => h.read('a'), () => h.lines().next()]) {
        const e = ipcError(read);
        expect([e.code, e.syscall]).toEqual(['EBADF', 'read']);
      }
      h.write('9876543210');
      expect(h.buffer.toString()).toBe('9876543210\n');
      h.flush();
      expect(readFileSync(path, 'utf8')).toBe('9876543210\n');
    } finally {
      h.close();
    }
  });

  it('two mappings of one file, and plain file I/O, see each other at once', () => {
    const path = tempFile(Buffer.alloc(2 * pagesize));
    const a = open(path, 'rw');
    const b = open(path, 'rw', pagesize);
    try {
      a.buffer.write('seen by b', pagesize);
      expect(b.read(9)).toBe('seen by b');
      const fd = openSync(path, 'r+');
      writeSync(fd, 'pwrite', 0);
      closeSync(fd);
      expect(a.read(6)).toBe('pwrite');
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('offset and size', () => {
  const path = () =>
    tempFile(Buffer.concat([Buffer.alloc(pagesize, 'a'), Buffer.from(text(3000))]));

  it('maps [offset, offset + size), or from offset to the end of the file with size 0', () => {
    const p = path();
    const total = statSync(p).size;
    const rest = open(p, 'r', pagesize);
    expect([rest.offset, rest.size(), rest.buffer.length]).toEqual([
      pagesize,
      total - pagesize,
      total - pagesize,
    ]);
    expect(rest.read('l')).toBe('line 0');
    rest.close();
    const part = open(p, 'r', pagesize, 14);
    expect([...part.lines()]).toEqual(['line 0', 'line 1']);
    part.close();
    const head = open(p, 'r', 0, 3);
    expect(head.read('a')).toBe('aaa');
    head.close();
    const exact = open(p, 'r', 2 * pagesize, total - 2 * pagesize);
    expect(exact.size()).toBe(total - 2 * pagesize);
    expect(exact.buffer.toString()).toBe(readFileSync(p, 'utf8').slice(2 * pagesize));
    exact.close();
  });

  it('EINVAL (mmap, with the path) for a zero-length file, an offset at or past EOF, or a range past EOF', () => {
    const p = path();
    const total = statSync(p).size;
    const empty = tempFile('');
    const cases: [string, ...number[]][] = [
      [empty],
      [empty, 0, 1],
      [p, Math.ceil(total / pagesize) * pagesize],
      [p, Math.ceil(total / pagesize) * pagesize + pagesize],
      [p, 0, total + 1],
      [p, pagesize, total - pagesize + 1],
    ];
    for (const [file, offset, size] of cases) {
      const e = ipcError(() => open(file, 'r', offset, size));
      expect([e.code, e.syscall, e.path, e.errno]).toEqual(['EINVAL', 'mmap', file, -22]);
      expect(e.message).toBe(`EINVAL: invalid argument, mmap '${file}'`);
    }
    // An offset exactly at EOF, the file's length being a multiple of the page size.
    const whole = tempFile(Buffer.alloc(2 * pagesize));
    expect(ipcError(() => open(whole, 'rw', 2 * pagesize)).code).toBe('EINVAL');
    expect(open(whole, 'rw', pagesize).size()).toBe(pagesize);
  });

  it('truncate(n) shrinks the handle, not the file (as LuaIPC)', () => {
    const p = tempFile('abc\ndef\n');
    const h = open(p, 'rw');
    expect(h.truncate(4)).toBe(true);
    expect(h.size()).toBe(4);
    expect(h.read('a')).toBe('abc\n');
    expect(h.buffer.length).toBe(8);
    h.close();
    expect(statSync(p).size).toBe(8);
  });
});

describe('paths as node:fs takes them', () => {
  it('a string (absolute or relative), a Buffer, a Uint8Array or a file: URL', () => {
    const p = tempFile('by path\n');
    const rel = relative(process.cwd(), p);
    for (const given of [
      p,
      rel,
      Buffer.from(p),
      new Uint8Array(Buffer.from(p)),
      pathToFileURL(p),
    ]) {
      const h = open(given);
      expect(h.read('l')).toBe('by path');
      expect(h.path).toBe(
        given instanceof URL ? p : String(given instanceof Uint8Array ? p : given),
      );
      h.close();
    }
    const e = ipcError(() => open(pathToFileURL(`${p}.missing`)));
    expect([e.code, e.syscall, e.path]).toEqual(['ENOENT', 'open', `${p}.missing`]);
  });

  it('a file name that is not UTF-8 opens by its bytes', () => {
    const dir = dirname(tempPath());
    const bytes = Buffer.concat([
      Buffer.from(`${dir}/raw-`),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('.txt'),
    ]);
    const fd = openSync(bytes, 'w');
    writeSync(fd, 'latin-1 name\n');
    closeSync(fd);
    const h = open(bytes);
    expect(h.read('l')).toBe('latin-1 name');
    expect(basename(h.path)).toBe('raw-\ufffd\ufffd.txt');
    h.close();
  });
});

describe('encodings and the options argument', () => {
  const p = () => tempFile(Buffer.from('caf\u00e9\n\u00ff\n', 'utf8'));

  it("utf8 by default; 'latin1' byte for byte; 'buffer' gives Buffers", () => {
    const file = p();
    expect(open(file).read('l')).toBe('caf\u00e9');
    const latin1 = open(file, { encoding: 'latin1' });
    expect(latin1.read('l')).toBe('caf\u00c3\u00a9');
    expect(latin1.encoding).toBe('latin1');
    const buf = open(file, 'r', { encoding: 'buffer' });
    expect(buf.read('l')).toEqual(Buffer.from('caf\u00e9', 'utf8'));
    expect(open(file, 'r', 0, { encoding: 'buffer' }).read(3)).toEqual(Buffer.from('caf'));
    expect(open(file, 'r', 0, 4, { encoding: 'latin1' }).read('a')).toBe('caf\u00c3');
    expect(open(file, undefined, undefined, undefined, { encoding: 'utf8' }).size()).toBe(9);
  });
});

describe('read-ahead: lines come from up to 64 KiB decoded at once, like a stdio buffer', () => {
  it('a line another process changed is seen after a seek(), flush() or with setvbuf("no")', () => {
    const p = tempFile(text(10));
    const h = open(p);
    const writer = open(p, 'rw');
    try {
      expect(h.read('l')).toBe('line 0');
      writer.buffer.write('LINE 1', 7);
      // Read ahead before the change:
      expect(h.read('l')).toBe('line 1');
      writer.buffer.write('LINE 2', 14);
      h.seek(); // drops the read-ahead
      expect(h.read('l')).toBe('LINE 2');
      h.setvbuf('no');
      writer.buffer.write('LINE 3', 21);
      expect(h.read('l')).toBe('LINE 3');
      writer.buffer.write('LINE 4', 28);
      expect(h.read('l')).toBe('LINE 4');
    } finally {
      h.close();
      writer.close();
    }
  });
});

describe('handles', () => {
  it('are made by open() only', () => {
    const Ctor = MappedFile as unknown as new (...args: unknown[]) => unknown;
    expect(() => new Ctor()).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_ILLEGAL_CONSTRUCTOR' }),
    );
  });

  it('after close(): every method and accessor throws ERR_IPC_CLOSED; close() is idempotent', () => {
    const h = open(tempFile('x\n'), 'rw');
    expect(h.close()).toBe(true);
    expect(h.close()).toBe(true);
    expect(h.closed).toBe(true);
    for (const use of [
      () => h.read(),
      () => h.lines(),
      () => h.write('x'),
      () => h.seek(),
      () => h.setvbuf('no'),
      () => h.flush(),
      () => h.size(),
      () => h.truncate(0),
      () => h.buffer,
      () => h.truncated,
      () => h.addr(),
    ]) {
      expectClosed(use);
    }
  });

  it('a Buffer taken before close() stays valid and shared (it holds the mapping)', () => {
    const p = tempFile('before close\n');
    const before = addon.mappings().count;
    const h = open(p, 'rw');
    const buf = h.buffer;
    h.close();
    expect(addon.mappings().count).toBe(before + 1);
    expect(buf.toString('latin1', 0, 6)).toBe('before');
    buf.write('BEFORE');
    expect(readFileSync(p, 'latin1').slice(0, 6)).toBe('BEFORE');
  });

  it('hold no file descriptor: the file is closed before open() returns', () => {
    const p = tempFile(text(10));
    const fds = () => readdirSync('/proc/self/fd').length;
    const n = fds();
    const handles = Array.from({ length: 50 }, () => open(p, 'rw'));
    expect(fds()).toBe(n);
    for (const h of handles) h.close();
  });

  it('close through Symbol.dispose', () => {
    const h = open(tempFile('x'));
    h[Symbol.dispose]();
    expect(h.closed).toBe(true);
  });
});
