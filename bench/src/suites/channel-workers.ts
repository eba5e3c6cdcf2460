import { once } from 'node:events';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { defineSuite, type Metrics } from '../types.js';
import { streamMetrics } from './channel-stream.js';
import { uniqueName } from './pingpong.js';

export interface ChannelWorkersParams {
  /** 64-byte messages per run. */
  messages: number;
}

const SIZE = 64;
const THREAD = new URL('../threads/channel-stream.js', import.meta.url);

/** Starts the receiving thread, then the sending one; resolves with the receiver's timing. */
async function stream(
  receiver: Record<string, unknown>,
  sender: Record<string, unknown>,
  transfer: { receiver?: MessagePort[]; sender?: MessagePort[] },
  total: number,
): Promise<Metrics> {
  const rx = new Worker(THREAD, { workerData: receiver, transferList: transfer.receiver ?? [] });
  const rxExit = once(rx, 'exit');
  await once(rx, 'message');
  const tx = new Worker(THREAD, { workerData: sender, transferList: transfer.sender ?? [] });
  const txExit = once(tx, 'exit');
  const [result] = (await once(rx, 'message')) as [{ seconds: number; bytes: number }];
  await Promise.all([txExit, rxExit]);
  if (result.bytes !== total * SIZE) throw new Error(`received ${result.bytes} bytes`);
  return streamMetrics(result.seconds, total, SIZE);
}

export default defineSuite<ChannelWorkersParams>({
  name: 'channel-workers',
  title: 'a one-way stream of 64-byte messages between two worker threads',
  about:
    'Two worker threads of one process: one sends 64-byte messages, the other receives them ' +
    '(timed from its first message to its last). @luaipc/channel (1 MiB ring, for await) ' +
    'against a MessagePort (postMessage of a Uint8Array, copied by structured clone; the ' +
    'receiver acknowledges every 10k messages so at most 20k are in flight). Not pinned.',
  columns: [{ key: 'msgsPerSec', label: 'msgs/s', better: 'higher', format: 'si' }],
  ratios: [{ metric: 'msgsPerSec', against: 'port' }],
  targets: [
    {
      case: 'channel',
      against: 'port',
      metric: 'msgsPerSec',
      op: '>=',
      value: 5,
      label: 'channel >= 5x MessagePort.postMessage',
    },
  ],
  prepare({ quick }) {
    return { messages: quick ? 200_000 : 2_000_000 };
  },
  cases: [
    {
      id: 'channel',
      label: '@luaipc/channel, for await',
      run({ params }) {
        const common = { name: uniqueName('wk'), total: params.messages, size: SIZE };
        return stream(
          { ...common, role: 'channel-receive' },
          { ...common, role: 'channel-send' },
          {},
          params.messages,
        );
      },
    },
    {
      id: 'port',
      label: 'MessagePort.postMessage',
      run({ params }) {
        const { port1, port2 } = new MessageChannel();
        const common = { name: '', total: params.messages, size: SIZE };
        return stream(
          { ...common, role: 'port-receive', port: port2 },
          { ...common, role: 'port-send', port: port1 },
          { receiver: [port2], sender: [port1] },
          params.messages,
        );
      },
    },
  ],
});
