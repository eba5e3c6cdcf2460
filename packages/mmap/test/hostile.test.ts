import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { open, pagesize } from '../src/index.js';
import {
  cleanup,
  expectClosed,
  fixture,
  ipcError,
  parseOk,
  runChild,
  runNode,
  tempFile,
  tempPath,
  uniqueName,
} from './helpers.js';

afterEach(cleanup);

// What a hostile or careless program can do to a mapping. Whatever it is, the process must not
// die by a signal: each scenario that could kill it runs in a child process whose exit code and
// signal are checked.

describe('paths that are not mappable files', () => {
  it('a FIFO (no hang), a directory, /dev/null, a /proc file, an empty path: IpcErrors; /dev/zero maps', async () => {
    const fifo = tempPath('fifo');
    execFileSync('mkfifo', [fifo]);
    const r = await runNode(fixture('fifo.mjs'), [fifo, dirname(fifo)], { timeoutMs: 20_000 });
    expect(r.timedOut).toBe(false);
    expect(parseOk(r)).toEqual({
      fifoR: 'IpcError ENODEV mmap',
      fifoRW: 'IpcError ENODEV mmap',
      dirR: 'IpcError EISDIR open',
      dirRW: 'IpcError EISDIR open',
      devNull: 'IpcError EINVAL mmap',
      devNullSized: 'IpcError ENODEV mmap',
      devZero: 'mapped 4096 0',
      procFile: 'IpcError EINVAL mmap',
      empty: 'IpcError ENOENT open',
    });
  });
});

describe("writes into an 'r' mapping's buffer", () => {
  it('every byte of it, before and after close(): the file is unchanged, nothing crashes', async () => {
    const file = tempFile(Buffer.alloc(4 * pagesize + 123, 'r'));
    const digest = () => createHash('sha256').update(readFileSync(file)).digest('hex');
    const before = digest();
    const r = await runNode(fixture('write-r.mjs'), [file]);
    expect(parseOk(r)).toEqual({ own: 'xxxxx', other: 'rrrrr', afterClose: 0x7a });
    expect(digest()).toBe(before);
  });
});

describe('the file under the mapping', () => {
  it('removed while mapped: the mapping goes on working (POSIX keeps the inode)', () => {
    const file = tempFile('unlinked but mapped\n');
    const h = open(file, 'rw');
    unlinkSync(file);
    expect(h.read('l')).toBe('unlinked but mapped');
    h.seek('set');
    h.write('still');
    h.flush();
    expect(h.buffer.toString('latin1', 0, 5)).toBe('still');
    h.close();
  });

  it('grown by another process: the mapping keeps its size and bytes', () => {
    const file = tempFile('abc\n');
    const h = open(file);
    writeFileSync(file, 'abc\ndef\n', { flag: 'a' });
    expect(h.size()).toBe(4);
    expect(h.read('a')).toBe('abc\n');
    h.close();
  });

  it('on a full file system: a store into a hole is absorbed (zeros, IpcError ENXIO), no SIGBUS', async () => {
    // A private mount namespace with a 1 MiB tmpfs (needs root, as the CI machine is).
    const dir = tempPath('small');
    mkdirSync(dir);
    const r = await runChild('unshare', [
      '-m',
      'sh',
      '-c',
      `mount -t tmpfs -o size=1m tmpfs "${dir}" && exec "${process.execPath}" "${fixture('diskfull.mjs')}" "${dir}/sparse" ${4 << 20}`,
    ]);
    expect(parseOk(r)).toEqual({
      written: 1 << 20,
      error: 'IpcError ENXIO write true',
      truncated: true,
      last: 1,
      flush: 'ENXIO',
      fileSize: 4 << 20,
    });
  });
});

describe('flush() failing', () => {
  let dir: string;
  let lib: string;
  beforeAll(() => {
    // Built once for the whole describe block, so not in the per-test scratch directory.
    dir = mkdtempSync(join(tmpdir(), 'luaipc-preload-'));
    lib = join(dir, 'fail-msync.so');
    execFileSync('cc', [
      '-shared',
      '-fPIC',
      '-Wall',
      '-Werror',
      fixture('fail-msync.c'),
      '-o',
      lib,
    ]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("msync's failure is an IpcError with the path; an 'r' map has nothing to flush", async () => {
    const r = await runNode(fixture('flush-fail.mjs'), [tempPath('flush')], {
      env: { LD_PRELOAD: lib },
    });
    const failed = { name: 'IpcError', code: 'EIO', errno: -5, syscall: 'msync', same: true };
    expect(parseOk(r)).toEqual({ rw: failed, w: failed, r: 'ok' });
  });
});

describe('resource limits', () => {
  it('ulimit -v: a mapping the address space refuses is IpcError ENOMEM; smaller ones work', async () => {
    const r = await runChild('sh', [
      '-c',
      `ulimit -v 2000000 && exec "${process.execPath}" "${fixture('vmlimit.mjs')}" "${tempPath('vm')}" ${2 ** 31}`,
    ]);
    expect(parseOk(r)).toEqual({
      r: 'IpcError ENOMEM mmap true',
      rw: 'IpcError ENOMEM mmap true',
      small: 'small',
    });
  });
});

describe('open() failing in the OS', () => {
  it('out of file descriptors (ulimit -n): EMFILE; existing mappings go on, open works once one is free', async () => {
    const r = await runChild('sh', [
      '-c',
      `ulimit -n 64 && exec "${process.execPath}" "${fixture('emfile.mjs')}" "${tempPath('emfile')}"`,
    ]);
    expect(parseOk(r)).toEqual({
      filled: 'EMFILE',
      open: 'IpcError EMFILE open true',
      before: 'mapped before',
      after: 'mapped before',
    });
  });

  it('a symlink loop, a name too long, a sysfs attribute, /proc/self/maps: IpcErrors', () => {
    const a = tempPath('loop');
    const b = tempPath('loop');
    symlinkSync(b, a);
    symlinkSync(a, b);
    const cases: [string, string, string][] = [
      [a, 'ELOOP', 'open'],
      [`${dirname(a)}/${'x'.repeat(300)}`, 'ENAMETOOLONG', 'open'],
      ['/proc/self/maps', 'EINVAL', 'mmap'],
    ];
    if (existsSync('/sys/kernel/mm/transparent_hugepage/enabled')) {
      cases.push(['/sys/kernel/mm/transparent_hugepage/enabled', 'ENODEV', 'mmap']);
    }
    for (const [path, code, syscall] of cases) {
      const e = ipcError(() => open(path));
      expect([e.code, e.syscall, e.path]).toEqual([code, syscall, path]);
    }
  });
});

describe('next to @luaipc/shm', () => {
  for (const order of ['mmap-first', 'shm-first']) {
    it(`both addons' fault handlers chain (${order}): each repairs its own shrunk mapping`, async () => {
      const name = uniqueName('two');
      const r = await runNode(fixture('two-addons.mjs'), [tempPath('two'), name, order]);
      const repaired = { zero: 0, truncated: true, read: 'ENXIO' };
      expect(parseOk(r)).toEqual({ mmap: repaired, shm: repaired });
    });
  }
});

describe('signals', () => {
  it('a SIGBUS sent by kill() still ends the process by SIGBUS', async () => {
    const r = await runNode(fixture('kill-bus.mjs'), [tempPath('bus')]);
    expect(r.stdout).not.toContain('survived');
    expect({ code: r.code, signal: r.signal }).toEqual({ code: null, signal: 'SIGBUS' });
  });
});

describe('use after close', () => {
  it('an iterator from lines() outliving its handle throws ERR_IPC_CLOSED on its next step', () => {
    const h = open(tempFile('a\nb\nc\n'));
    const it = h.lines();
    expect(it.next()).toEqual({ done: false, value: 'a' });
    h.close();
    expectClosed(() => it.next());
  });
});
