import { closeSync, ftruncateSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_SIZE, open, pagesize } from '../src/index.js';
import { cleanup, ipcError, tempPath } from './helpers.js';

afterEach(cleanup);

// Offsets past 2 GiB and 4 GiB, in a sparse file (no disk space is used for the holes).
const GiB = 2 ** 30;

function sparse(size: number, marks: Record<number, string>): string {
  const path = tempPath('sparse');
  const fd = openSync(path, 'w+');
  ftruncateSync(fd, size);
  for (const [at, text] of Object.entries(marks)) writeSync(fd, text, Number(at));
  closeSync(fd);
  return path;
}

function readAt(path: string, position: number, length: number): string {
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(length);
  readSync(fd, buf, 0, length, position);
  closeSync(fd);
  return buf.toString('latin1');
}

describe('offsets beyond 2 GiB and 4 GiB (sparse file)', () => {
  const size = 4 * GiB + 3 * pagesize;

  it('maps at 2 GiB, 4 GiB and past them; writes land at the right place in the file', () => {
    const path = sparse(size, {
      [2 * GiB]: 'at 2 GiB\n',
      [2 * GiB + pagesize]: 'at 2 GiB + a page\n',
      [4 * GiB]: 'at 4 GiB\n',
      [4 * GiB + 2 * pagesize + 100]: 'near the end\n',
    });
    expect(statSync(path).blocks * 512).toBeLessThan(64 * 1024 * 1024);
    for (const [offset, first] of [
      [2 * GiB, 'at 2 GiB'],
      [2 * GiB + pagesize, 'at 2 GiB + a page'],
      [4 * GiB, 'at 4 GiB'],
    ] as const) {
      const h = open(path, 'r', offset, 2 * pagesize);
      expect([h.offset, h.size(), h.read('l')]).toEqual([offset, 2 * pagesize, first]);
      h.close();
    }
    const tail = open(path, 'rw', 4 * GiB + 2 * pagesize);
    expect(tail.size()).toBe(pagesize);
    tail.seek('set', 100);
    expect(tail.read('l')).toBe('near the end');
    tail.seek('set', 0);
    tail.write('written at 4 GiB + 2 pages');
    tail.flush();
    tail.close();
    expect(readAt(path, 4 * GiB + 2 * pagesize, 26)).toBe('written at 4 GiB + 2 pages');
    const mid = open(path, 'w', 3 * GiB, pagesize);
    mid.write('three');
    mid.close();
    expect(readAt(path, 3 * GiB, 5)).toBe('three');
    expect(statSync(path).size).toBe(size);
  });

  it('size 0 with more than MAX_SIZE left is EFBIG; exactly MAX_SIZE maps (a 4 GiB Buffer)', () => {
    const path = sparse(size, { [size - 5]: 'last\n' });
    if (MAX_SIZE > size) {
      // Node 22+: Buffers may be longer than 4 GiB, and so may mappings.
      const whole = open(path);
      expect(whole.size()).toBe(size);
      whole.seek('end', -5);
      expect(whole.read('l')).toBe('last');
      whole.close();
      return;
    }
    const e = ipcError(() => open(path));
    expect([e.code, e.syscall, e.path]).toEqual(['EFBIG', 'mmap', path]);
    expect(ipcError(() => open(path, 'r', 2 * pagesize)).code).toBe('EFBIG');
    const h = open(path, 'r', 3 * pagesize);
    expect(h.size()).toBe(MAX_SIZE);
    expect(h.buffer.length).toBe(MAX_SIZE);
    h.seek('end', -5);
    expect(h.read('l')).toBe('last');
    expect(h.buffer[2 * GiB]).toBe(0);
    h.close();
    // An explicit size maps part of it, wherever it starts.
    const part = open(path, 'r', 0, GiB);
    expect(part.size()).toBe(GiB);
    part.close();
  });

  it('offsets far past the end of the file are EINVAL', () => {
    const path = sparse(pagesize, {});
    for (const offset of [
      2 * GiB,
      4 * GiB,
      2 ** 40,
      Math.floor(Number.MAX_SAFE_INTEGER / pagesize) * pagesize,
    ]) {
      const e = ipcError(() => open(path, 'r', offset));
      expect([e.code, e.syscall]).toEqual(['EINVAL', 'mmap']);
    }
  });
});
