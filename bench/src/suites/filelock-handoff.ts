import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileC } from '../harness/cc.js';
import { peerCpus, peerExit, spawnPeer } from '../harness/peer.js';
import { secondsSince } from '../harness/stats.js';
import { defineSuite, type Metrics, SAME_CPU, SPLIT_CPUS, TWO_CPUS } from '../types.js';
import { pingPongMetrics } from './pingpong.js';

type FilelockModule = typeof import('@luaipc/filelock');
type Mode = 'sync' | 'async';

export interface HandoffParams {
  roundTrips: number;
  warmup: number;
  /** The compiled bench/c/fcntl_handoff.c. */
  fcntlHandoff: string;
}

/**
 * The relay both sides run (the C program does the same with fcntl): three one-byte ranges, the
 * parent starting with 0 and 1, the peer with 2. Round k: the parent unlocks k%3 and waits for
 * (k+2)%3; the peer waits for k%3 and then unlocks (k+2)%3. Each process waits for a range only
 * the other can release, so they strictly alternate: a round trip is two hand-offs.
 */
async function take(fl: FilelockModule, fd: number, byte: number, mode: Mode): Promise<void> {
  const ok = mode === 'sync' ? fl.lockSync(fd, 'w', byte, 1) : await fl.lock(fd, 'w', byte, 1);
  if (ok !== true) throw new Error(`lock returned ${ok}`);
}

async function filelockHandoff(params: HandoffParams, mode: Mode): Promise<Metrics> {
  const fl = (await import('@luaipc/filelock')) as FilelockModule;
  const dir = join(tmpdir(), `luaipc-bench-handoff-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'relay');
  writeFileSync(file, 'xxx');
  const fd = openSync(file, 'r+');
  try {
    await take(fl, fd, 0, 'sync');
    await take(fl, fd, 1, 'sync');
    const total = params.warmup + params.roundTrips;
    const peer = spawnPeer('filelock-handoff', 'relay', [file, mode, String(total)]);
    await once(peer, 'message');
    let start = 0n;
    for (let k = 0; k < total; k++) {
      if (k === params.warmup) start = process.hrtime.bigint();
      fl.unlock(fd, k % 3, 1);
      await take(fl, fd, (k + 2) % 3, mode);
    }
    const seconds = secondsSince(start);
    fl.unlock(fd);
    const code = await peerExit(peer);
    if (code !== 0) throw new Error(`relay peer exited with ${code}`);
    return pingPongMetrics(seconds, params.roundTrips);
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

export default defineSuite<HandoffParams>({
  name: 'filelock-handoff',
  title: 'a contended lock handed back and forth between two processes',
  about:
    'Two processes pass exclusive locks on three one-byte ranges so that each waits for a ' +
    'range only the other releases (20k timed round trips after 1k untimed; 2k in quick runs); ' +
    'a round trip is two hand-offs, each waking a process blocked in the kernel. The C program ' +
    'does the same with fcntl F_OFD_SETLKW and is the floor.',
  reps: 5,
  placements: [SAME_CPU, TWO_CPUS, SPLIT_CPUS],
  columns: [
    { key: 'usPerRoundTrip', label: 'µs/round trip', better: 'lower', format: 'fixed', digits: 1 },
    { key: 'roundTripsPerSec', label: 'round trips/s', better: 'higher', format: 'si' },
  ],
  ratios: [{ metric: 'usPerRoundTrip', against: 'c-fcntl' }],
  targets: [
    {
      case: 'locksync',
      against: 'c-fcntl',
      metric: 'usPerRoundTrip',
      op: '<=',
      value: 1.5,
      label: 'lockSync hand-off within 1.5x of C',
    },
  ],
  prepare({ quick }) {
    return {
      roundTrips: quick ? 2_000 : 20_000,
      warmup: 1_000,
      fcntlHandoff: compileC('fcntl_handoff'),
    };
  },
  cases: [
    {
      id: 'c-fcntl',
      label: 'C fcntl F_OFD_SETLKW relay',
      run({ params }) {
        const dir = join(tmpdir(), `luaipc-bench-handoff-c-${process.pid}`);
        mkdirSync(dir, { recursive: true });
        const file = join(dir, 'relay');
        writeFileSync(file, 'xxx');
        try {
          const out = execFileSync(
            params.fcntlHandoff,
            [file, String(params.roundTrips), String(params.warmup), peerCpus() ?? '-'],
            { encoding: 'utf8' },
          );
          const { seconds, roundTrips } = JSON.parse(out) as {
            seconds: number;
            roundTrips: number;
          };
          return pingPongMetrics(seconds, roundTrips);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    },
    {
      id: 'locksync',
      label: '@luaipc/filelock lockSync()',
      run: ({ params }) => filelockHandoff(params, 'sync'),
    },
    {
      id: 'lock',
      label: '@luaipc/filelock await lock()',
      run: ({ params }) => filelockHandoff(params, 'async'),
    },
  ],
  peers: {
    async relay([file, mode, totalArg]) {
      const fl = (await import('@luaipc/filelock')) as FilelockModule;
      const fd = openSync(file as string, 'r+');
      if (!fl.trylock(fd, 'w', 2, 1)) throw new Error('range 2 is taken');
      process.send?.('ready');
      const total = Number(totalArg);
      for (let k = 0; k < total; k++) {
        await take(fl, fd, k % 3, mode as Mode);
        fl.unlock(fd, (k + 2) % 3, 1);
      }
      fl.unlock(fd);
      closeSync(fd);
      process.disconnect?.();
    },
  },
});
