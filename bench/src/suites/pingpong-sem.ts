import { peerExit, spawnPeer } from '../harness/peer.js';
import { secondsSince } from '../harness/stats.js';
import type { BenchCase, Target } from '../types.js';
import { type PingPongParams, pingPongMetrics, uniqueName } from './pingpong.js';

type SemModule = typeof import('@luaipc/sem');
type Mode = 'sync' | 'async';

/**
 * The @luaipc/sem side of the ping-pong: two named semaphores, like the C floor. The parent
 * increments "ping" and waits on "pong"; the peer does the reverse. Both sides use the same
 * call (`decSync`, or `await dec()`), so a round trip is two wake-ups through that path.
 */
async function semPingPong(params: PingPongParams, mode: Mode) {
  const { open } = (await import('@luaipc/sem')) as SemModule;
  const name = uniqueName(`sem-${mode}`);
  // LuaIPC's open creates only with n > 0: create at 1, then take it.
  const ping = open(`${name}-ping`, 1);
  const pong = open(`${name}-pong`, 1);
  ping.tryDec();
  pong.tryDec();
  try {
    const total = params.warmup + params.roundTrips;
    const peer = spawnPeer('pingpong', 'sem-echo', [name, mode, String(total)], { ipc: false });
    let start = 0n;
    for (let i = 0; i < total; i++) {
      if (i === params.warmup) start = process.hrtime.bigint();
      ping.inc();
      const ok = mode === 'sync' ? pong.decSync() : await pong.dec();
      if (!ok) throw new Error('dec without timeout returned false');
    }
    const seconds = secondsSince(start);
    const code = await peerExit(peer);
    if (code !== 0) throw new Error(`sem-echo peer exited with ${code}`);
    return pingPongMetrics(seconds, params.roundTrips);
  } finally {
    // The creator's close unlinks the names.
    ping.close();
    pong.close();
  }
}

export const semCases: BenchCase<PingPongParams>[] = [
  {
    id: 'sem-decsync',
    label: '@luaipc/sem decSync()',
    run: ({ params }) => semPingPong(params, 'sync'),
  },
  {
    id: 'sem-dec',
    label: '@luaipc/sem await dec()',
    run: ({ params }) => semPingPong(params, 'async'),
  },
];

export const semPeers = {
  async 'sem-echo'([name, mode, totalArg]: string[]) {
    const { open } = (await import('@luaipc/sem')) as SemModule;
    const ping = open(`${name}-ping`);
    const pong = open(`${name}-pong`);
    const total = Number(totalArg);
    for (let i = 0; i < total; i++) {
      const ok = mode === 'sync' ? ping.decSync() : await ping.dec();
      if (!ok) throw new Error('dec without timeout returned false');
      pong.inc();
    }
    ping.close();
    pong.close();
  },
};

export const semTargets: Target[] = [
  {
    case: 'sem-decsync',
    against: 'c-sem',
    metric: 'usPerRoundTrip',
    op: '<=',
    value: 1.5,
    label: 'decSync within 1.5x of C',
  },
  {
    case: 'sem-dec',
    against: 'ipc',
    metric: 'usPerRoundTrip',
    op: '<=',
    value: 1,
    label: 'await dec() no slower than process.send',
  },
];
