import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileC } from '../harness/cc.js';
import { peerCpus, peerExit, spawnPeer } from '../harness/peer.js';
import { secondsSince } from '../harness/stats.js';
import { defineSuite, type Metrics, SAME_CPU, SPLIT_CPUS, TWO_CPUS } from '../types.js';
import { semCases, semPeers, semTargets } from './pingpong-sem.js';

export interface PingPongParams {
  /** Timed round trips per run. */
  roundTrips: number;
  /** Untimed round trips first, so both sides are running and JIT-compiled. */
  warmup: number;
  /** The compiled bench/c/sem_pingpong.c. */
  semPingPong: string;
}

/** Every ping-pong case reports through this, so the columns mean the same for each. */
export function pingPongMetrics(seconds: number, roundTrips: number): Metrics {
  return {
    seconds,
    roundTrips,
    usPerRoundTrip: (seconds / roundTrips) * 1e6,
    roundTripsPerSec: roundTrips / seconds,
  };
}

/** A name no other run or process uses (semaphores, sockets). */
export function uniqueName(tag: string): string {
  return `luaipc-bench-${tag}-${process.pid}-${Date.now().toString(36)}`;
}

/**
 * Round trips with `process.send`, what a Node user would use for this: the peer (`ipc-echo`,
 * registered under that name by the suite) sends every message back.
 */
export async function ipcPingPong(
  suite: string,
  params: { roundTrips: number; warmup: number },
): Promise<Metrics> {
  const peer = spawnPeer(suite, 'ipc-echo');
  await once(peer, 'message');
  const total = params.warmup + params.roundTrips;
  let start = 0n;
  await new Promise<void>((resolve) => {
    let n = 0;
    peer.on('message', () => {
      n++;
      if (n === params.warmup) start = process.hrtime.bigint();
      if (n === total) resolve();
      else peer.send(n);
    });
    peer.send(0);
  });
  const seconds = secondsSince(start);
  peer.disconnect();
  await peerExit(peer);
  return pingPongMetrics(seconds, params.roundTrips);
}

/** The peer of {@link ipcPingPong}. */
export function ipcEcho(): void {
  process.on('message', (m) => process.send?.(m));
  process.send?.('ready');
}

/** How long `c-sem-spin` tries sem_trywait + sched_yield before sem_wait (as @luaipc/sem does). */
const SPIN_NS = 50_000;

function cSemPingPong(params: PingPongParams, spinNs: number): Metrics {
  const out = execFileSync(
    params.semPingPong,
    [
      uniqueName('c'),
      String(params.roundTrips),
      String(params.warmup),
      peerCpus() ?? '-',
      String(spinNs),
    ],
    { encoding: 'utf8' },
  );
  const { seconds, roundTrips } = JSON.parse(out) as { seconds: number; roundTrips: number };
  return pingPongMetrics(seconds, roundTrips);
}

export default defineSuite<PingPongParams>({
  name: 'pingpong',
  title: 'two-process ping-pong round trips',
  about:
    'A parent and a child process pass a token back and forth (100k timed round trips after ' +
    '1k untimed; 5k in quick runs). The C program uses two named POSIX semaphores and is the ' +
    'floor for a blocking cross-process wake-up; its spinning variant is the floor for waiters ' +
    'that spin before they sleep. Placement is set with taskset on the case ' +
    'process; its child inherits it.',
  // Targets are judged on at least 5 repetitions (bench/README.md); 50k round trips each keep the suite
  // near 5 minutes.
  reps: 5,
  placements: [SAME_CPU, TWO_CPUS, SPLIT_CPUS],
  columns: [
    { key: 'usPerRoundTrip', label: 'µs/round trip', better: 'lower', format: 'fixed', digits: 1 },
    { key: 'roundTripsPerSec', label: 'round trips/s', better: 'higher', format: 'si' },
  ],
  ratios: [
    { metric: 'usPerRoundTrip', against: 'c-sem' },
    { metric: 'usPerRoundTrip', against: 'c-sem-spin' },
    { metric: 'usPerRoundTrip', against: 'ipc' },
  ],
  targets: [...semTargets],
  prepare({ quick }) {
    return {
      roundTrips: quick ? 5_000 : 50_000,
      warmup: 1_000,
      semPingPong: compileC('sem_pingpong', ['-pthread']),
    };
  },
  cases: [
    {
      id: 'c-sem',
      label: 'C sem_post/sem_wait',
      run: ({ params }) => cSemPingPong(params, 0),
    },
    {
      // A waiter that spins before it sleeps skips the cross-CPU wake-up whenever the reply comes
      // within the spin, which sem_wait alone never does: this is the floor for such a waiter.
      id: 'c-sem-spin',
      label: 'C sem, 50 µs yield-spin, then wait',
      run: ({ params }) => cSemPingPong(params, SPIN_NS),
    },
    {
      id: 'ipc',
      label: 'child_process IPC (process.send)',
      run: ({ params }) => ipcPingPong('pingpong', params),
    },
    {
      id: 'uds',
      label: 'Unix domain socket (net)',
      async run({ params }) {
        const path = join(tmpdir(), `${uniqueName('uds')}.sock`);
        const server = createServer();
        server.listen(path);
        await once(server, 'listening');
        try {
          const peer = spawnPeer('pingpong', 'uds-echo', [path], { ipc: false });
          const [socket] = (await once(server, 'connection')) as [Socket];
          const total = params.warmup + params.roundTrips;
          const byte = Buffer.from([1]);
          let start = 0n;
          await new Promise<void>((resolve) => {
            let n = 0;
            // One byte in flight at a time, so every 'data' event is exactly one reply.
            socket.on('data', () => {
              n++;
              if (n === params.warmup) start = process.hrtime.bigint();
              if (n === total) resolve();
              else socket.write(byte);
            });
            socket.write(byte);
          });
          const seconds = secondsSince(start);
          socket.end();
          await peerExit(peer);
          return pingPongMetrics(seconds, params.roundTrips);
        } finally {
          server.close();
          rmSync(path, { force: true });
        }
      },
    },
    ...semCases,
  ],
  peers: {
    'ipc-echo': ipcEcho,
    'uds-echo'([path]) {
      const socket = createConnection(path as string);
      socket.on('data', (data) => socket.write(data));
      socket.on('end', () => socket.end());
    },
    ...semPeers,
  },
});
