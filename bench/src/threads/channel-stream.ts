/**
 * The worker threads of the `channel-workers` suite: `workerData.role` says which side this
 * thread is. 'channel-send' / 'channel-receive' stream through @luaipc/channel; 'port-send' /
 * 'port-receive' through a MessagePort, the receiver acknowledging every ACK_EVERY messages so
 * that the sender keeps at most 2 x ACK_EVERY in flight (postMessage has no backpressure of its
 * own). The receiver posts the seconds from its first message to its last.
 */

import type { MessagePort } from 'node:worker_threads';
import { parentPort, workerData } from 'node:worker_threads';

type ChannelModule = typeof import('@luaipc/channel');

interface Data {
  role: 'channel-send' | 'channel-receive' | 'port-send' | 'port-receive';
  name: string;
  total: number;
  size: number;
  port?: MessagePort;
}

const ACK_EVERY = 10_000;
const data = workerData as Data;
const parent = parentPort as MessagePort;

if (data.role === 'channel-receive') {
  const { create } = (await import('@luaipc/channel')) as ChannelModule;
  const rx = create(data.name);
  parent.postMessage('ready');
  let n = 0;
  let bytes = 0;
  let start = 0n;
  for await (const msg of rx) {
    if (n === 0) start = process.hrtime.bigint();
    bytes += msg.length;
    if (++n === data.total) break;
  }
  parent.postMessage({ seconds: Number(process.hrtime.bigint() - start) / 1e9, bytes });
  rx.close();
} else if (data.role === 'channel-send') {
  const { connect } = (await import('@luaipc/channel')) as ChannelModule;
  const tx = connect(data.name);
  const msg = Buffer.alloc(data.size, 0x61);
  for (let i = 0; i < data.total; i++) if (!tx.trySend(msg)) await tx.send(msg);
  tx.close();
} else if (data.role === 'port-receive') {
  const port = data.port as MessagePort;
  let n = 0;
  let bytes = 0;
  let start = 0n;
  port.on('message', (msg: Uint8Array) => {
    if (n === 0) start = process.hrtime.bigint();
    bytes += msg.length;
    n++;
    if (n % ACK_EVERY === 0) port.postMessage(n);
    if (n === data.total) {
      parent.postMessage({ seconds: Number(process.hrtime.bigint() - start) / 1e9, bytes });
      port.close();
    }
  });
  parent.postMessage('ready');
} else {
  const port = data.port as MessagePort;
  let acked = 0;
  let wake: (() => void) | null = null;
  port.on('message', (n: number) => {
    acked = n;
    wake?.();
  });
  const msg = new Uint8Array(data.size).fill(0x61);
  for (let i = 0; i < data.total; i++) {
    while (i - acked >= 2 * ACK_EVERY) await new Promise<void>((r) => (wake = r));
    port.postMessage(msg);
  }
  port.close();
}
