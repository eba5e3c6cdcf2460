import { execFileSync } from 'node:child_process';
import { compileC } from '../harness/cc.js';
import { peerCpus } from '../harness/peer.js';
import { defineSuite } from '../types.js';
import {
  channelStream,
  ipcStream,
  streamMetrics,
  streamPeers,
  udsStream,
} from './channel-stream.js';

export interface ChannelStreamParams {
  /** Messages per run for the fast cases (the channel, the C ring). */
  messages: number;
  /** Messages per run for process.send and the socket (a run of a few seconds each). */
  slowMessages: number;
  /** The compiled bench/c/ring_stream.c. */
  ringStream: string;
}

const SIZE = 64;
const CAPACITY = 2 ** 20;

export default defineSuite<ChannelStreamParams>({
  name: 'channel',
  title: 'a one-way stream of 64-byte messages between two processes',
  about:
    'A peer process sends 64-byte messages, this one receives them, each as a Buffer (or ' +
    'string) of its own, timed from the first to the last. @luaipc/channel with its default 1 ' +
    'MiB ring, received with for await, and with await receive() plus tryReceive() until the ' +
    'ring is empty; the same from 4 sender processes at once; process.send with JSON (64-char ' +
    'strings) and advanced serialization (64-byte Buffers); a Unix socket with length-prefixed ' +
    'frames; and the C floor: an SPSC ring in shared memory with futex wake-ups that publishes ' +
    'per message and copies each message into a malloc()ed buffer. Not pinned: both processes ' +
    'have both CPUs.',
  columns: [
    { key: 'msgsPerSec', label: 'msgs/s', better: 'higher', format: 'si' },
    { key: 'rssMiB', label: 'peak RSS MiB', better: 'lower', format: 'fixed', digits: 0 },
  ],
  ratios: [
    { metric: 'msgsPerSec', against: 'ipc-json' },
    { metric: 'msgsPerSec', against: 'c-ring' },
    { metric: 'msgsPerSec', against: 'channel' },
  ],
  targets: [
    {
      case: 'channel',
      against: 'ipc-json',
      metric: 'msgsPerSec',
      op: '>=',
      value: 10,
      label: 'channel >= 10x process.send (json)',
    },
    {
      case: 'channel',
      against: 'c-ring',
      metric: 'msgsPerSec',
      op: '>=',
      value: 0.25,
      label: 'channel >= 0.25x the C ring',
    },
    {
      case: 'channel-4',
      against: 'channel',
      metric: 'msgsPerSec',
      op: '>=',
      value: 0.7,
      label: '4 senders to 1 >= 0.7x one sender',
    },
  ],
  prepare({ quick }) {
    return {
      messages: quick ? 400_000 : 4_000_000,
      slowMessages: quick ? 40_000 : 400_000,
      ringStream: compileC('ring_stream'),
    };
  },
  cases: [
    {
      id: 'c-ring',
      label: 'C SPSC ring, futex wake-ups',
      run({ params }) {
        const messages = params.messages * 5;
        const out = execFileSync(
          params.ringStream,
          [String(messages), String(SIZE), String(CAPACITY), peerCpus() ?? '-'],
          { encoding: 'utf8' },
        );
        const { seconds } = JSON.parse(out) as { seconds: number };
        return streamMetrics(seconds, messages, SIZE);
      },
    },
    {
      id: 'channel',
      label: '@luaipc/channel, for await',
      run: ({ params }) =>
        channelStream('channel', {
          senders: 1,
          total: params.messages,
          size: SIZE,
          capacity: CAPACITY,
          style: 'iterate',
        }),
    },
    {
      id: 'channel-drain',
      label: '@luaipc/channel, receive() + tryReceive()',
      run: ({ params }) =>
        channelStream('channel', {
          senders: 1,
          total: params.messages,
          size: SIZE,
          capacity: CAPACITY,
          style: 'drain',
        }),
    },
    {
      id: 'channel-4',
      label: '@luaipc/channel, 4 senders, for await',
      run: ({ params }) =>
        channelStream('channel', {
          senders: 4,
          total: params.messages,
          size: SIZE,
          capacity: CAPACITY,
          style: 'iterate',
        }),
    },
    {
      id: 'ipc-json',
      label: 'process.send, json',
      run: ({ params }) => ipcStream('channel', 'json', params.slowMessages, SIZE),
    },
    {
      id: 'ipc-advanced',
      label: 'process.send, advanced',
      run: ({ params }) => ipcStream('channel', 'advanced', params.slowMessages, SIZE),
    },
    {
      id: 'uds',
      label: 'Unix socket, length-prefixed',
      run: ({ params }) => udsStream('channel', params.slowMessages * 4, SIZE, false),
    },
  ],
  peers: streamPeers,
});
