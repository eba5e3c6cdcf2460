import { execFileSync } from 'node:child_process';
import { compileC } from '../harness/cc.js';
import { median } from '../harness/stats.js';
import { defineSuite } from '../types.js';
import { shmCopyCases, shmCopyTargets } from './copy-shm.js';

export interface CopyParams {
  /** Bytes copied per pass. */
  total: number;
  /** Bytes per copy call. */
  chunk: number;
  /** Timed passes per run (after one untimed pass); the run reports their median. */
  passes: number;
  /** The compiled bench/c/memcpy_bench.c. */
  memcpyBench: string;
}

/**
 * Times `passes` calls of `copyAll` (after one untimed call) and returns the median pass in GB/s.
 * Every copy case goes through this so they are measured the same way: the destination is warm
 * (every page touched before timing), the source is a warm local Buffer.
 */
export function copyRate(params: CopyParams, copyAll: () => void): number {
  copyAll();
  const rates: number[] = [];
  for (let p = 0; p < params.passes; p++) {
    const start = process.hrtime.bigint();
    copyAll();
    rates.push(params.total / Number(process.hrtime.bigint() - start));
  }
  // bytes per nanosecond is GB/s.
  return median(rates);
}

/** A warm source Buffer of `total` bytes (every page written). */
export function warmSource(total: number): Buffer {
  return Buffer.alloc(total, 1);
}

export default defineSuite<CopyParams>({
  name: 'copy',
  title: 'copy 64 MiB into warm memory in 1 MiB chunks',
  about:
    'Copies 64 MiB (quick runs: 16 MiB) from a warm local buffer into a warm destination in ' +
    '1 MiB calls, one untimed pass then 20 timed (5 in quick runs); each run reports its median ' +
    'pass. C memcpy is the floor; shared-memory cases copy into a mapping the same way.',
  columns: [{ key: 'gbPerSec', label: 'GB/s', better: 'higher', format: 'fixed', digits: 2 }],
  ratios: [{ metric: 'gbPerSec', against: 'memcpy' }],
  targets: [...shmCopyTargets],
  prepare({ quick }) {
    return {
      total: (quick ? 16 : 64) * 2 ** 20,
      chunk: 2 ** 20,
      passes: quick ? 5 : 20,
      memcpyBench: compileC('memcpy_bench'),
    };
  },
  cases: [
    {
      id: 'memcpy',
      label: 'C memcpy',
      run({ params }) {
        const out = execFileSync(
          params.memcpyBench,
          [String(params.total), String(params.chunk), String(params.passes)],
          { encoding: 'utf8' },
        );
        return { gbPerSec: (JSON.parse(out) as { gbPerSec: number }).gbPerSec };
      },
    },
    {
      id: 'buffer-set',
      label: 'Buffer#set into a Buffer',
      run({ params }) {
        const src = warmSource(params.total);
        const dst = Buffer.alloc(params.total, 0);
        const { total, chunk } = params;
        const gbPerSec = copyRate(params, () => {
          for (let off = 0; off < total; off += chunk) {
            dst.set(src.subarray(off, off + chunk), off);
          }
        });
        return { gbPerSec };
      },
    },
    {
      id: 'filelike-write',
      label: 'FileLike#write into a Buffer',
      async run({ params }) {
        const { FileLike } = await import('@luaipc/filelike');
        const src = warmSource(params.total);
        const file = new FileLike(Buffer.alloc(params.total, 0));
        const { total, chunk } = params;
        const gbPerSec = copyRate(params, () => {
          file.seek('set', 0);
          for (let off = 0; off < total; off += chunk) file.write(src.subarray(off, off + chunk));
        });
        return { gbPerSec };
      },
    },
    ...shmCopyCases,
  ],
});
