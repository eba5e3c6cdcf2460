import type { BenchCase, Target } from '../types.js';
import { type CopyParams, copyRate, warmSource } from './copy.js';

type ShmModule = typeof import('@luaipc/shm');

/**
 * A fresh shared memory segment of `total` bytes for one run, made warm: `create` reserves the
 * pages and the untimed first pass of `copyRate` touches every one of them, so the timed passes
 * copy into mapped, resident memory like the C floor does.
 */
async function withSegment<T>(
  params: CopyParams,
  fn: (shm: import('@luaipc/shm').SharedMemory<Buffer>) => T,
): Promise<T> {
  const { create } = (await import('@luaipc/shm')) as ShmModule;
  const shm = create(`luaipc-bench-copy-${process.pid}`, params.total, { encoding: 'buffer' });
  try {
    return fn(shm);
  } finally {
    shm.close();
  }
}

export const shmCopyCases: BenchCase<CopyParams>[] = [
  {
    id: 'shm-buffer-set',
    label: '@luaipc/shm buffer.set(src)',
    run: ({ params }) =>
      withSegment(params, (shm) => {
        const src = warmSource(params.total);
        const dst = shm.buffer;
        const { total, chunk } = params;
        return {
          gbPerSec: copyRate(params, () => {
            for (let off = 0; off < total; off += chunk)
              dst.set(src.subarray(off, off + chunk), off);
          }),
        };
      }),
  },
  {
    id: 'shm-buffer-copy',
    label: '@luaipc/shm Buffer#copy(shm.buffer)',
    run: ({ params }) =>
      withSegment(params, (shm) => {
        const src = warmSource(params.total);
        const dst = shm.buffer;
        const { total, chunk } = params;
        return {
          gbPerSec: copyRate(params, () => {
            for (let off = 0; off < total; off += chunk) src.copy(dst, off, off, off + chunk);
          }),
        };
      }),
  },
  {
    id: 'shm-buffer-read',
    label: '@luaipc/shm shm.buffer.copy(local) (out of shm)',
    run: ({ params }) =>
      withSegment(params, (shm) => {
        shm.buffer.fill(1);
        const local = Buffer.alloc(params.total, 0);
        const src = shm.buffer;
        const { total, chunk } = params;
        return {
          gbPerSec: copyRate(params, () => {
            for (let off = 0; off < total; off += chunk) src.copy(local, off, off, off + chunk);
          }),
        };
      }),
  },
  {
    id: 'shm-filelike-write',
    label: '@luaipc/shm write(chunk)',
    run: ({ params }) =>
      withSegment(params, (shm) => {
        const src = warmSource(params.total);
        const { total, chunk } = params;
        return {
          gbPerSec: copyRate(params, () => {
            shm.seek('set', 0);
            for (let off = 0; off < total; off += chunk) shm.write(src.subarray(off, off + chunk));
          }),
        };
      }),
  },
  {
    id: 'shm-filelike-read',
    label: '@luaipc/shm read(n) (out of shm, a new Buffer per chunk)',
    run: ({ params }) =>
      withSegment(params, (shm) => {
        shm.buffer.fill(1);
        const { total, chunk } = params;
        let sink = 0;
        const gbPerSec = copyRate(params, () => {
          shm.seek('set', 0);
          for (let off = 0; off < total; off += chunk) sink += (shm.read(chunk) as Buffer).length;
        });
        if (sink === 0) throw new Error('nothing read');
        return { gbPerSec };
      }),
  },
];

export const shmCopyTargets: Target[] = [
  {
    case: 'shm-buffer-set',
    against: 'memcpy',
    metric: 'gbPerSec',
    op: '>=',
    value: 0.8,
    label: 'shm buffer.set >= 0.8x memcpy (GB/s)',
  },
  {
    case: 'shm-buffer-copy',
    against: 'memcpy',
    metric: 'gbPerSec',
    op: '>=',
    value: 0.8,
    label: 'shm Buffer#copy >= 0.8x memcpy (GB/s)',
  },
];
