import { defineSuite } from '../types.js';
import { channelStream, ipcStream, streamPeers, udsStream } from './channel-stream.js';

export interface ChannelBigParams {
  /** 1 MiB messages per run. */
  messages: number;
}

const SIZE = 2 ** 20;

export default defineSuite<ChannelBigParams>({
  name: 'channel-big',
  title: 'a one-way stream of 1 MiB messages between two processes',
  about:
    'A peer process sends 1 MiB messages (1 GiB per run; quick runs 128 MiB), this one ' +
    'receives each into a Buffer of its own. @luaipc/channel with 4 MiB rings (three messages ' +
    'in flight), received with for await; a Unix socket with length-prefixed frames, each ' +
    'copied into a fresh Buffer; process.send with advanced serialization (Buffers). Not pinned.',
  columns: [
    { key: 'mbPerSec', label: 'MB/s', better: 'higher', format: 'fixed', digits: 0 },
    { key: 'rssMiB', label: 'peak RSS MiB', better: 'lower', format: 'fixed', digits: 0 },
  ],
  ratios: [
    { metric: 'mbPerSec', against: 'uds' },
    { metric: 'mbPerSec', against: 'ipc-advanced' },
  ],
  targets: [
    {
      case: 'channel',
      against: 'uds',
      metric: 'mbPerSec',
      op: '>=',
      value: 1.5,
      label: 'channel >= 1.5x a Unix socket (MB/s)',
    },
  ],
  prepare({ quick }) {
    return { messages: quick ? 128 : 1024 };
  },
  cases: [
    {
      id: 'channel',
      label: '@luaipc/channel, for await',
      run: ({ params }) =>
        channelStream('channel-big', {
          senders: 1,
          total: params.messages,
          size: SIZE,
          capacity: 4 * SIZE,
          style: 'iterate',
        }),
    },
    {
      id: 'uds',
      label: 'Unix socket, length-prefixed',
      run: ({ params }) => udsStream('channel-big', params.messages, SIZE, true),
    },
    {
      id: 'ipc-advanced',
      label: 'process.send, advanced',
      run: ({ params }) => ipcStream('channel-big', 'advanced', params.messages / 2, SIZE),
    },
  ],
  peers: streamPeers,
});
