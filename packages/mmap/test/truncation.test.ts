import { afterEach, describe, expect, it } from 'vitest';
import { pagesize } from '../src/index.js';
import { cleanup, fixture, parseOk, runNode, tempPath } from './helpers.js';

afterEach(cleanup);

// Another process shrinks a file we have mapped. Touching a lost page would kill the process with
// SIGBUS; the fault handler of luaipc/mapping_os.h maps zero pages there instead, and the handle
// reports the truncation. Each scenario in a child process, which must exit 0 without a signal.

const SIZE = 256 * 1024;
const lost = (syscall = 'read') => `IpcError ENXIO ${syscall} file`;

describe('a mapped file shrunk by another process', () => {
  for (const mode of ['rw', 'r'] as const) {
    for (const [by, newSize] of [
      ['python', 5000],
      ['node', 0],
    ] as const) {
      it(`'${mode}' map, file cut to ${newSize} bytes by ${by}: IpcError ENXIO from FileLike methods, zeros from buffer`, async () => {
        const file = tempPath('shrink');
        const out = parseOk(
          await runNode(fixture('truncate.mjs'), [file, mode, by, String(newSize)]),
        );
        // 'r': the first page was written through the buffer (a private copy).
        expect(out.before).toEqual({ truncated: false, first: mode === 'r' ? 'lIne 0' : 'line 0' });
        // Until a lost page is touched nothing can tell (no system call per access).
        expect(out.truncatedBeforeTouch).toBe(false);
        expect(out.truncatedAfterFirst).toBe(false);
        // Bytes that still exist read as before. The kernel takes private copies of pages past
        // the new end away too (POSIX wants them to fault like the file's), so at size 0 none do.
        expect(out.readKept).toBe(newSize > 0 ? 'ok 6' : lost());
        expect(out.readAhead).toBe(lost());
        expect(out.zeros).toEqual([0, 0, 0]);
        expect(out.truncated).toBe(true);
        for (const key of ['read', 'readN', 'readLine', 'readBigLine', 'readNumber', 'lines']) {
          expect([key, out[key]]).toEqual([key, lost()]);
        }
        expect(out.write).toBe(mode === 'r' ? 'IpcError EBADF write undefined' : lost('write'));
        expect(out.flush).toBe(lost('msync'));
        // Methods that do not touch the memory go on working.
        expect(out.seek).toBe('ok 10');
        expect(out.size).toBe(`ok ${SIZE}`);
        // Another handle in this process has its own mapping: it finds out on its own first touch.
        expect(out.otherRead).toBe(lost());
        expect(out.otherTruncated).toBe(true);
        expect(out.otherZero).toBe(0);
        // A new mapping maps what is left.
        expect(out.late).toBe(newSize > 0 ? `ok ${newSize}` : 'IpcError EINVAL mmap file');
        expect(out.gzip).toBe(SIZE);
        expect(out.writeFile).toBe(SIZE);
        expect(out.writeThrough).toBe(7);
        // A worker's own mapping faults on the worker's thread.
        expect(out.worker).toEqual({ zero: 0, read: 'ENXIO', truncated: true });
        // Nothing we did afterwards grew the file again.
        expect(out.fileSize).toBe(newSize);
      });
    }
  }

  it('touched first by zlib in the threadpool: the handler runs on that thread', async () => {
    const out = parseOk(
      await runNode(fixture('truncate.mjs'), [tempPath('pool'), 'rw', 'python', '5000', 'pool']),
    );
    expect(out.first).toBe(SIZE);
    expect(out.truncatedAfterFirst).toBe(true);
    // The mapping is marked truncated: every FileLike read now throws, kept bytes included.
    expect(out.readKept).toBe(lost());
  });

  it('touched first by the kernel (write(2) from the Buffer): EFAULT, no signal', async () => {
    const out = parseOk(
      await runNode(fixture('truncate.mjs'), [tempPath('kern'), 'rw', 'python', '5000', 'kernel']),
    );
    expect(out.first).toBe('EFAULT');
    expect(out.truncatedAfterFirst).toBe(false);
    expect(out.readKept).toBe('ok 6');
  });

  it('a cut inside the last page keeps the whole page: no fault, no truncation', async () => {
    // The file's last page stays mapped (its tail reads as zeros), so nothing is lost.
    const out = parseOk(
      await runNode(fixture('truncate.mjs'), [
        tempPath('tail'),
        'rw',
        'node',
        String(SIZE - pagesize + 1),
      ]),
    );
    expect(out.truncated).toBe(false);
    expect([out.zeros[0], out.zeros[2]]).toEqual([0, 0]);
    expect(out.read).toBe(`ok ${SIZE}`);
    expect(out.flush).toBe(`ok file (${SIZE} bytes)`);
    expect(out.fileSize).toBe(SIZE - pagesize + 1);
  });
});
