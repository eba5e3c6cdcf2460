import * as cp from 'node:child_process';
import { secondsSince } from '../harness/stats.js';
import { defineSuite, type Metrics } from '../types.js';

export interface ProcFloodParams {
  /** Bytes the child writes. */
  bytes: number;
}

/** Milliseconds a slow callback spends on each call. */
const SLOW_MS = 0.3;

const command = (bytes: number): string => `head -c ${bytes} /dev/zero`;

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/**
 * Watches the event loop and the memory while `run` streams the output: the worst lateness of a
 * 10 ms interval timer (absent for waitSync(), which blocks the loop by design) and the growth of
 * RSS, peak minus the RSS before the spawn.
 */
async function measure(
  bytes: number,
  sync: boolean,
  run: () => Promise<number> | number,
): Promise<Metrics> {
  let late = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    late = Math.max(late, now - last - 10);
    last = now;
  }, 10);
  const rssBefore = process.memoryUsage().rss;
  const start = process.hrtime.bigint();
  const received = await run();
  const seconds = secondsSince(start);
  clearInterval(timer);
  if (received !== bytes) throw new Error(`received ${received} of ${bytes} bytes`);
  // maxRSS (KiB) is the peak of the whole process: the growth can only be overstated.
  const rssGrowthMiB = (process.resourceUsage().maxRSS * 1024 - rssBefore) / 2 ** 20;
  const metrics: Metrics = { seconds, bytes, mbPerSec: bytes / 1e6 / seconds, rssGrowthMiB };
  if (!sync) metrics.lateMs = late;
  return metrics;
}

async function procFlood(bytes: number, how: 'wait' | 'waitSync', slow: boolean): Promise<Metrics> {
  const { spawn } = await import('@luaipc/proc');
  return measure(bytes, how === 'waitSync', async () => {
    let received = 0;
    const p = spawn(command(bytes), {
      stdout: true,
      encoding: 'buffer',
      callback: (_stream, data) => {
        received += (data as Buffer).length;
        if (slow) busy(SLOW_MS);
      },
    });
    const result = how === 'wait' ? await p.wait() : p.waitSync();
    if (result[0] !== true) throw new Error(`child failed: ${result.join(' ')}`);
    return received;
  });
}

function cpFlood(bytes: number, slow: boolean): Promise<Metrics> {
  return measure(
    bytes,
    false,
    () =>
      new Promise<number>((resolve, reject) => {
        let received = 0;
        const child = cp.spawn(command(bytes), {
          shell: true,
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        child.stdout.on('data', (d: Buffer) => {
          received += d.length;
          if (slow) busy(SLOW_MS);
        });
        child.on('error', reject);
        child.on('close', (code) =>
          code === 0 ? resolve(received) : reject(new Error(`exit ${code}`)),
        );
      }),
  );
}

export default defineSuite<ProcFloodParams>({
  name: 'proc-flood',
  title: '1 GiB of output through a callback: speed, memory, event loop',
  about:
    '`head -c 1G /dev/zero` through `/bin/sh -c` (64 MiB in quick runs), every byte handed to a ' +
    'callback that keeps nothing, timed from spawn to exit. Meanwhile a 10 ms interval timer ' +
    'records how late it fired at worst (n/a for waitSync(), which blocks the event loop by ' +
    'design), and RSS growth is the peak RSS of the case process minus its RSS before the spawn. ' +
    `The slow cases' callback spends ${SLOW_MS} ms on every call (@luaipc/proc calls it with ` +
    "up to 256 KiB, child_process's 'data' with up to 64 KiB), so the child must be held back.",
  columns: [
    { key: 'mbPerSec', label: 'MB/s', better: 'higher', format: 'fixed', digits: 0 },
    { key: 'rssGrowthMiB', label: 'RSS growth MiB', better: 'lower', format: 'fixed', digits: 1 },
    {
      key: 'lateMs',
      label: 'worst timer lateness ms',
      better: 'lower',
      format: 'fixed',
      digits: 1,
    },
  ],
  ratios: [
    { metric: 'mbPerSec', against: 'proc' },
    { metric: 'mbPerSec', against: 'cp' },
  ],
  targets: [],
  prepare({ quick }) {
    return { bytes: quick ? 64 << 20 : 1 << 30 };
  },
  cases: [
    {
      id: 'proc',
      label: '@luaipc/proc await wait()',
      run: ({ params }) => procFlood(params.bytes, 'wait', false),
    },
    {
      id: 'proc-sync',
      label: '@luaipc/proc waitSync()',
      run: ({ params }) => procFlood(params.bytes, 'waitSync', false),
    },
    {
      id: 'cp',
      label: "child_process 'data' events",
      run: ({ params }) => cpFlood(params.bytes, false),
    },
    {
      id: 'proc-slow',
      label: `@luaipc/proc await wait(), ${SLOW_MS} ms callback`,
      run: ({ params }) => procFlood(params.bytes, 'wait', true),
    },
    {
      id: 'cp-slow',
      label: `child_process 'data' events, ${SLOW_MS} ms callback`,
      run: ({ params }) => cpFlood(params.bytes, true),
    },
  ],
});
