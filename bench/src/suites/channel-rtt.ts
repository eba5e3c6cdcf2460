import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, rmSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileC } from '../harness/cc.js';
import { peerCpus, peerExit, spawnPeer } from '../harness/peer.js';
import { secondsSince } from '../harness/stats.js';
import { defineSuite, type Metrics, SAME_CPU, SPLIT_CPUS, TWO_CPUS } from '../types.js';
import { ipcEcho, ipcPingPong, pingPongMetrics, uniqueName } from './pingpong.js';

type ChannelModule = typeof import('@luaipc/channel');

const RDWR_NONBLOCK = constants.O_RDWR | constants.O_NONBLOCK;

export interface ChannelRttParams {
  roundTrips: number;
  warmup: number;
  /** The compiled bench/c/fifo_pingpong.c. */
  fifoPingPong: string;
}

type Mode = 'async' | 'sync';

/**
 * A channel each way: this process sends 8 bytes on "ping" and waits on "pong", the peer the
 * reverse. Each side waits the same way (`await receive()` or `receiveSync()`), so both are
 * asleep between messages and every message is a wake-up through that path.
 */
async function channelPingPong(params: ChannelRttParams, mode: Mode): Promise<Metrics> {
  const { connect, create } = (await import('@luaipc/channel')) as ChannelModule;
  const pong = create(uniqueName(`pong-${mode}`), { capacity: 65536 });
  const ping = uniqueName(`ping-${mode}`);
  const total = params.warmup + params.roundTrips;
  const peer = spawnPeer('channel-rtt', 'channel-echo', [ping, pong.name, mode, String(total)], {
    ipc: false,
  });
  try {
    let tx: ReturnType<ChannelModule['connect']> | undefined;
    while (tx === undefined) {
      try {
        tx = connect(ping);
      } catch (error) {
        if ((error as { code?: string }).code !== 'ENOENT') throw error;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    const msg = Buffer.alloc(8, 1);
    let start = 0n;
    for (let i = 0; i < total; i++) {
      if (i === params.warmup) start = process.hrtime.bigint();
      tx.trySend(msg);
      const reply = mode === 'sync' ? pong.receiveSync() : await pong.receive();
      if (reply === null || reply.length !== 8) throw new Error('no reply');
    }
    const seconds = secondsSince(start);
    tx.close();
    const code = await peerExit(peer);
    if (code !== 0) throw new Error(`channel-echo peer exited with ${code}`);
    return pingPongMetrics(seconds, params.roundTrips);
  } finally {
    pong.close();
  }
}

export default defineSuite<ChannelRttParams>({
  name: 'channel-rtt',
  title: 'two-process round trips, both sides asleep between messages',
  about:
    'A parent and a peer pass 8 bytes back and forth (50k timed round trips after 1k untimed; ' +
    '5k in quick runs), a channel each way, each side waiting in await receive() (or ' +
    'receiveSync()) so that every message wakes a sleeper. The C floor does the same with ' +
    "the channel's own wake-up path (a ring in shared memory each way, a sleeping flag, a FIFO " +
    'doorbell, poll()); a bare one-byte ping-pong over two FIFOs read by net.Socket is what ' +
    'any design that wakes the event loop through a descriptor pays; process.send is what a ' +
    'Node user would use instead. Placement with taskset as in the pingpong suite.',
  reps: 5,
  placements: [SAME_CPU, TWO_CPUS, SPLIT_CPUS],
  columns: [
    { key: 'usPerRoundTrip', label: 'µs/round trip', better: 'lower', format: 'fixed', digits: 1 },
    { key: 'roundTripsPerSec', label: 'round trips/s', better: 'higher', format: 'si' },
  ],
  ratios: [
    { metric: 'usPerRoundTrip', against: 'c-fifo' },
    { metric: 'usPerRoundTrip', against: 'js-fifo' },
    { metric: 'usPerRoundTrip', against: 'ipc' },
  ],
  targets: [
    {
      case: 'channel',
      against: 'ipc',
      metric: 'usPerRoundTrip',
      op: '<=',
      value: 1,
      label: 'await receive() no slower than process.send',
    },
    {
      case: 'channel',
      against: 'c-fifo',
      metric: 'usPerRoundTrip',
      op: '<=',
      value: 1.5,
      label: 'await receive() within 1.5x of C with the same doorbell',
    },
  ],
  prepare({ quick }) {
    return {
      roundTrips: quick ? 5_000 : 50_000,
      warmup: 1_000,
      fifoPingPong: compileC('fifo_pingpong'),
    };
  },
  cases: [
    {
      id: 'c-fifo',
      label: 'C, shm ring + FIFO doorbell',
      run({ params }) {
        const out = execFileSync(
          params.fifoPingPong,
          [
            join(tmpdir(), uniqueName('fifo')),
            String(params.roundTrips),
            String(params.warmup),
            peerCpus() ?? '-',
          ],
          { encoding: 'utf8' },
        );
        const { seconds, roundTrips } = JSON.parse(out) as { seconds: number; roundTrips: number };
        return pingPongMetrics(seconds, roundTrips);
      },
    },
    {
      id: 'channel',
      label: '@luaipc/channel await receive()',
      run: ({ params }) => channelPingPong(params, 'async'),
    },
    {
      id: 'channel-sync',
      label: '@luaipc/channel receiveSync()',
      run: ({ params }) => channelPingPong(params, 'sync'),
    },
    {
      // What any design that wakes the event loop through a descriptor pays: one byte each way
      // over two FIFOs, read by a net.Socket, written with fs.writeSync. No shared memory.
      id: 'js-fifo',
      label: 'Node, bare FIFO byte ping-pong',
      async run({ params }) {
        const base = join(tmpdir(), uniqueName('jsfifo'));
        execFileSync('mkfifo', ['-m', '600', `${base}-a`, `${base}-b`]);
        try {
          const total = params.warmup + params.roundTrips;
          const mine = new Socket({ fd: openSync(`${base}-b`, RDWR_NONBLOCK), writable: false });
          const peer = spawnPeer('channel-rtt', 'fifo-echo', [base, String(total)], { ipc: false });
          let theirs = -1;
          while (theirs < 0) {
            try {
              theirs = openSync(`${base}-a`, constants.O_WRONLY | constants.O_NONBLOCK);
            } catch {
              await new Promise((r) => setTimeout(r, 5));
            }
          }
          const byte = Buffer.from([1]);
          let start = 0n;
          await new Promise<void>((resolve) => {
            let n = 0;
            mine.on('data', () => {
              n++;
              if (n === params.warmup) start = process.hrtime.bigint();
              if (n === total) resolve();
              else writeSync(theirs, byte);
            });
            writeSync(theirs, byte);
          });
          const seconds = secondsSince(start);
          closeSync(theirs);
          mine.destroy();
          await peerExit(peer);
          return pingPongMetrics(seconds, params.roundTrips);
        } finally {
          rmSync(`${base}-a`, { force: true });
          rmSync(`${base}-b`, { force: true });
        }
      },
    },
    {
      id: 'ipc',
      label: 'child_process IPC (process.send)',
      run: ({ params }) => ipcPingPong('channel-rtt', params),
    },
  ],
  peers: {
    async 'channel-echo'([ping, pong, mode, totalArg]: string[]) {
      const { connect, create } = (await import('@luaipc/channel')) as ChannelModule;
      const rx = create(ping as string, { capacity: 65536 });
      const tx = connect(pong as string);
      const total = Number(totalArg);
      for (let i = 0; i < total; i++) {
        const msg = mode === 'sync' ? rx.receiveSync() : await rx.receive();
        if (msg === null) throw new Error('no message');
        tx.trySend(msg);
      }
      tx.close();
      rx.close();
    },
    async 'fifo-echo'([base, totalArg]: string[]) {
      const mine = new Socket({ fd: openSync(`${base}-a`, RDWR_NONBLOCK), writable: false });
      const theirs = openSync(`${base}-b`, constants.O_WRONLY | constants.O_NONBLOCK);
      const total = Number(totalArg);
      let n = 0;
      await new Promise<void>((resolve) => {
        mine.on('data', () => {
          writeSync(theirs, Buffer.from([1]));
          if (++n === total) resolve();
        });
      });
      closeSync(theirs);
      mine.destroy();
    },
    'ipc-echo': ipcEcho,
  },
});
