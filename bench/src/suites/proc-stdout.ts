import * as cp from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { compileC } from '../harness/cc.js';
import { secondsSince } from '../harness/stats.js';
import { defineSuite, type Metrics } from '../types.js';

export interface ProcStdoutParams {
  /** Bytes the child writes. */
  bytes: number;
  /** The compiled bench/c/proc_read.c. */
  cRead: string;
}

const command = (bytes: number): string => `head -c ${bytes} /dev/zero`;

function rateMetrics(seconds: number, bytes: number, received: number): Metrics {
  if (received !== bytes) throw new Error(`received ${received} of ${bytes} bytes`);
  return { seconds, bytes, mbPerSec: bytes / 1e6 / seconds };
}

/** @luaipc/proc reading the whole output, from spawn to the exit. */
async function procRead(
  bytes: number,
  encoding: 'buffer' | 'utf8',
  how: 'wait' | 'waitSync',
): Promise<Metrics> {
  const { spawn } = await import('@luaipc/proc');
  const once = async (total: number): Promise<number> => {
    let received = 0;
    const p = spawn(command(total), {
      stdout: true,
      encoding,
      callback: (_stream, data) => {
        received += (data as Buffer | string).length;
      },
    });
    const result = how === 'wait' ? await p.wait() : p.waitSync();
    if (result[0] !== true) throw new Error(`child failed: ${result.join(' ')}`);
    return received;
  };
  await once(16 << 20);
  const start = process.hrtime.bigint();
  const received = await once(bytes);
  return rateMetrics(secondsSince(start), bytes, received);
}

export default defineSuite<ProcStdoutParams>({
  name: 'proc-stdout',
  title: "reading a child's stdout",
  about:
    '`head -c 256M /dev/zero` through `/bin/sh -c` (16 MiB in quick runs), timed from spawn to ' +
    'exit with every byte delivered (one untimed 16 MiB run first). The C case reads the ' +
    'default 64 KiB pipe with read() into a 64 KiB buffer: the floor the target names; ' +
    '@luaipc/proc grows a pipe it keeps finding full to 256 KiB, so the C case with a ' +
    '256 KiB pipe is the like-for-like floor. ' +
    "Strings: the default `encoding: 'utf8'`, decoded as it streams.",
  columns: [
    { key: 'mbPerSec', label: 'MB/s', better: 'higher', format: 'fixed', digits: 0 },
    { key: 'seconds', label: 's', better: 'lower', format: 'fixed', digits: 3 },
  ],
  ratios: [
    { metric: 'mbPerSec', against: 'c' },
    { metric: 'mbPerSec', against: 'c-256k' },
    { metric: 'mbPerSec', against: 'cp' },
  ],
  targets: [
    {
      case: 'proc',
      against: 'c',
      metric: 'mbPerSec',
      op: '>=',
      value: 0.8,
      label: 'await wait() with Buffers >= 0.8x a C read() loop (MB/s)',
    },
  ],
  prepare({ quick }) {
    return { bytes: quick ? 16 << 20 : 256 << 20, cRead: compileC('proc_read') };
  },
  cases: [
    {
      id: 'c',
      label: 'C read() loop',
      run({ params }) {
        const out = execFileSync(params.cRead, [command(params.bytes)], { encoding: 'utf8' });
        const { seconds, bytes } = JSON.parse(out) as { seconds: number; bytes: number };
        return rateMetrics(seconds, params.bytes, bytes);
      },
    },
    {
      // @luaipc/proc grows a pipe that it keeps finding full to 256 KiB: the floor for that.
      id: 'c-256k',
      label: 'C read() loop, 256 KiB pipe',
      run({ params }) {
        const out = execFileSync(params.cRead, [command(params.bytes), String(256 * 1024)], {
          encoding: 'utf8',
        });
        const { seconds, bytes } = JSON.parse(out) as { seconds: number; bytes: number };
        return rateMetrics(seconds, params.bytes, bytes);
      },
    },
    {
      id: 'proc',
      label: '@luaipc/proc await wait(), Buffers',
      run: ({ params }) => procRead(params.bytes, 'buffer', 'wait'),
    },
    {
      id: 'proc-sync',
      label: '@luaipc/proc waitSync(), Buffers',
      run: ({ params }) => procRead(params.bytes, 'buffer', 'waitSync'),
    },
    {
      id: 'proc-utf8',
      label: '@luaipc/proc await wait(), strings',
      run: ({ params }) => procRead(params.bytes, 'utf8', 'wait'),
    },
    {
      id: 'cp',
      label: "child_process 'data' events",
      async run({ params }) {
        const once = (total: number): Promise<number> =>
          new Promise((resolve, reject) => {
            let received = 0;
            const child = cp.spawn(command(total), {
              shell: true,
              stdio: ['ignore', 'pipe', 'inherit'],
            });
            child.stdout.on('data', (d: Buffer) => {
              received += d.length;
            });
            child.on('error', reject);
            child.on('close', (code) =>
              code === 0 ? resolve(received) : reject(new Error(`exit ${code}`)),
            );
          });
        await once(16 << 20);
        const start = process.hrtime.bigint();
        const received = await once(params.bytes);
        return rateMetrics(secondsSince(start), params.bytes, received);
      },
    },
  ],
});
