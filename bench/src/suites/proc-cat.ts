import * as cp from 'node:child_process';
import { secondsSince } from '../harness/stats.js';
import { defineSuite, type Metrics } from '../types.js';

export interface ProcCatParams {
  /** Bytes sent through `cat` (and read back). */
  bytes: number;
  /** Size of each write. */
  chunk: number;
  /** Bytes written but not yet read back, at most: both sides keep memory bounded. */
  window: number;
}

function rateMetrics(seconds: number, bytes: number, received: number): Metrics {
  if (received !== bytes) throw new Error(`received ${received} of ${bytes} bytes`);
  return { seconds, bytes, mbPerSec: bytes / 1e6 / seconds };
}

async function procCat(params: ProcCatParams, how: 'wait' | 'waitSync'): Promise<Metrics> {
  // Not destructured: EOF keeps its unique symbol type through the namespace object.
  const proc = await import('@luaipc/proc');
  const chunk = Buffer.alloc(params.chunk, 'x');
  const once = async (total: number): Promise<number> => {
    let written = 0;
    let received = 0;
    const pump = (): void => {
      while (written < total && written - received < params.window) {
        const n = Math.min(chunk.length, total - written);
        p.write(n === chunk.length ? chunk : chunk.subarray(0, n));
        written += n;
        if (written === total) p.write(proc.EOF);
      }
    };
    const p = proc.spawn(['cat'], {
      stdin: true,
      stdout: true,
      encoding: 'buffer',
      callback: (_stream, data) => {
        received += (data as Buffer).length;
        pump();
      },
    });
    pump();
    const result = how === 'wait' ? await p.wait() : p.waitSync();
    if (result[0] !== true) throw new Error(`cat failed: ${result.join(' ')}`);
    return received;
  };
  await once(16 << 20);
  const start = process.hrtime.bigint();
  const received = await once(params.bytes);
  return rateMetrics(secondsSince(start), params.bytes, received);
}

export default defineSuite<ProcCatParams>({
  name: 'proc-cat',
  title: 'stdin to stdout through cat',
  about:
    '256 MiB (16 MiB in quick runs) written to `cat` in 1 MiB writes while its output is read ' +
    'back, with at most 8 MiB in flight (@luaipc/proc: the callback writes more as output ' +
    "arrives; child_process: stdin.write() honouring 'drain'), timed from spawn to exit (one " +
    'untimed 16 MiB run first).',
  columns: [
    { key: 'mbPerSec', label: 'MB/s', better: 'higher', format: 'fixed', digits: 0 },
    { key: 'seconds', label: 's', better: 'lower', format: 'fixed', digits: 3 },
  ],
  ratios: [{ metric: 'mbPerSec', against: 'cp' }],
  targets: [],
  prepare({ quick }) {
    return { bytes: quick ? 16 << 20 : 256 << 20, chunk: 1 << 20, window: 8 << 20 };
  },
  cases: [
    {
      id: 'proc',
      label: '@luaipc/proc await wait()',
      run: ({ params }) => procCat(params, 'wait'),
    },
    {
      id: 'proc-sync',
      label: '@luaipc/proc waitSync()',
      run: ({ params }) => procCat(params, 'waitSync'),
    },
    {
      id: 'cp',
      label: 'child_process stdin.write / stdout data',
      async run({ params }) {
        const chunk = Buffer.alloc(params.chunk, 'x');
        const once = (total: number): Promise<number> =>
          new Promise((resolve, reject) => {
            let received = 0;
            let written = 0;
            const child = cp.spawn('cat', [], { stdio: ['pipe', 'pipe', 'inherit'] });
            const pump = (): void => {
              while (written < total) {
                const n = Math.min(chunk.length, total - written);
                written += n;
                const more = child.stdin.write(n === chunk.length ? chunk : chunk.subarray(0, n));
                if (written === total) child.stdin.end();
                else if (!more) {
                  child.stdin.once('drain', pump);
                  return;
                }
              }
            };
            child.stdout.on('data', (d: Buffer) => {
              received += d.length;
            });
            child.on('error', reject);
            child.on('close', (code) =>
              code === 0 ? resolve(received) : reject(new Error(`exit ${code}`)),
            );
            pump();
          });
        await once(16 << 20);
        const start = process.hrtime.bigint();
        const received = await once(params.bytes);
        return rateMetrics(secondsSince(start), params.bytes, received);
      },
    },
  ],
});
