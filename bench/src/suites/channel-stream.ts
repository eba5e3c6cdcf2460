/**
 * One-way streams between two processes, shared by the `channel` (64-byte messages) and
 * `channel-big` (1 MiB) suites: @luaipc/channel and what a Node user would use instead
 * (`process.send`, a Unix socket with length-prefixed frames). Every receiver gets a Buffer (or
 * string) of its own per message and touches it; the clock runs from the first message to the
 * last.
 */
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peerExit, spawnPeer } from '../harness/peer.js';
import { secondsSince } from '../harness/stats.js';
import type { Metrics } from '../types.js';
import { uniqueName } from './pingpong.js';

type ChannelModule = typeof import('@luaipc/channel');

/** Every stream case reports through this, so the columns mean the same for each. */
export function streamMetrics(seconds: number, messages: number, size: number): Metrics {
  return {
    seconds,
    messages,
    msgsPerSec: messages / seconds,
    mbPerSec: (messages * size) / seconds / 1e6,
  };
}

/** How the channel's receiver takes messages. */
export type ReceiveStyle = 'iterate' | 'drain';

/**
 * `senders` peer processes send `total` messages of `size` bytes between them into one channel
 * (rings of `capacity` bytes); this process receives with `for await` ('iterate'), or with
 * `await receive()` then `tryReceive()` until the rings are empty ('drain').
 */
export async function channelStream(
  suite: string,
  opts: { senders: number; total: number; size: number; capacity: number; style: ReceiveStyle },
): Promise<Metrics> {
  const { create } = (await import('@luaipc/channel')) as ChannelModule;
  const rx = create(uniqueName('ch'), { capacity: opts.capacity });
  try {
    const each = opts.total / opts.senders;
    const peers = Array.from({ length: opts.senders }, () =>
      spawnPeer(suite, 'channel-send', [rx.name, String(each), String(opts.size)], { ipc: false }),
    );
    let n = 0;
    let bytes = 0;
    let start = 0n;
    if (opts.style === 'iterate') {
      for await (const msg of rx) {
        if (n === 0) start = process.hrtime.bigint();
        bytes += msg.length;
        if (++n === opts.total) break;
      }
    } else {
      while (n < opts.total) {
        const first = (await rx.receive()) as Buffer;
        if (n === 0) start = process.hrtime.bigint();
        bytes += first.length;
        n++;
        for (let m = rx.tryReceive(); m !== null; m = rx.tryReceive()) {
          bytes += m.length;
          n++;
        }
      }
    }
    const seconds = secondsSince(start);
    if (bytes !== opts.total * opts.size) throw new Error(`received ${bytes} bytes`);
    for (const peer of peers) {
      const code = await peerExit(peer);
      if (code !== 0) throw new Error(`channel-send peer exited with ${code}`);
    }
    return streamMetrics(seconds, n, opts.size);
  } finally {
    rx.close();
  }
}

/**
 * A peer sends `total` messages of `size` bytes with `process.send`: a string of `size`
 * characters under JSON serialization, a Buffer under 'advanced'. It waits for the send
 * callback once per MiB sent, so its backlog stays bounded as the channel's does.
 */
export async function ipcStream(
  suite: string,
  serialization: 'json' | 'advanced',
  total: number,
  size: number,
): Promise<Metrics> {
  const peer = spawnPeer(suite, 'ipc-send', [String(total), String(size)], { serialization });
  let n = 0;
  let bytes = 0;
  let start = 0n;
  await new Promise<void>((resolve) => {
    peer.on('message', (msg: string | Uint8Array) => {
      if (n === 0) start = process.hrtime.bigint();
      bytes += msg.length;
      if (++n === total) resolve();
    });
  });
  const seconds = secondsSince(start);
  if (bytes !== total * size) throw new Error(`received ${bytes} bytes`);
  peer.disconnect();
  await peerExit(peer);
  return streamMetrics(seconds, n, size);
}

/**
 * A peer sends `total` frames (a u32 length, then `size` bytes) over a Unix domain socket,
 * honouring backpressure; this process cuts them out of the stream: a view of the chunk for a
 * frame inside one chunk (as the channel's small messages are views of a private copy), a
 * fresh Buffer for one that spans chunks, or for every frame when `fresh` (1 MiB messages: both
 * sides then pay for a Buffer of the receiver's own).
 */
export async function udsStream(
  suite: string,
  total: number,
  size: number,
  fresh: boolean,
): Promise<Metrics> {
  const path = join(tmpdir(), `${uniqueName('uds')}.sock`);
  const server = createServer();
  server.listen(path);
  await once(server, 'listening');
  try {
    const peer = spawnPeer(suite, 'uds-send', [path, String(total), String(size)], { ipc: false });
    const [socket] = (await once(server, 'connection')) as [Socket];
    let n = 0;
    let bytes = 0;
    let start = 0n;
    let rest: Buffer | null = null;
    let frame: Buffer | null = null;
    let filled = 0;
    await new Promise<void>((resolve, reject) => {
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        if (n === 0 && start === 0n) start = process.hrtime.bigint();
        let data = chunk;
        let at = 0;
        if (frame !== null) {
          // Finishing a frame that spans chunks.
          const take = Math.min(frame.length - filled, data.length);
          data.copy(frame, filled, 0, take);
          filled += take;
          at = take;
          if (filled < frame.length) return;
          bytes += frame.length;
          n++;
          frame = null;
        }
        if (rest !== null) {
          data = Buffer.concat([rest, data.subarray(at)]);
          at = 0;
          rest = null;
        }
        while (data.length - at >= 4) {
          const length = data.readUInt32LE(at);
          const end = at + 4 + length;
          if (end > data.length) {
            frame = Buffer.allocUnsafe(length);
            filled = data.copy(frame, 0, at + 4);
            at = data.length;
            break;
          }
          const msg = fresh ? Buffer.from(data.subarray(at + 4, end)) : data.subarray(at + 4, end);
          bytes += msg.length;
          n++;
          at = end;
        }
        if (at < data.length) rest = data.subarray(at);
        if (n === total) resolve();
      });
    });
    const seconds = secondsSince(start);
    if (bytes !== total * size) throw new Error(`received ${bytes} bytes`);
    socket.end();
    await peerExit(peer);
    return streamMetrics(seconds, n, size);
  } finally {
    server.close();
    rmSync(path, { force: true });
  }
}

export const streamPeers = {
  async 'channel-send'([name, countArg, sizeArg]: string[]) {
    const { connect } = (await import('@luaipc/channel')) as ChannelModule;
    const tx = connect(name as string);
    const msg = Buffer.alloc(Number(sizeArg), 0x61);
    const count = Number(countArg);
    for (let i = 0; i < count; i++) if (!tx.trySend(msg)) await tx.send(msg);
    tx.close();
  },
  async 'ipc-send'([countArg, sizeArg]: string[]) {
    const count = Number(countArg);
    const size = Number(sizeArg);
    const advanced = process.env.NODE_CHANNEL_SERIALIZATION_MODE === 'advanced';
    const msg = advanced ? Buffer.alloc(size, 0x61) : 'a'.repeat(size);
    const every = Math.max(1, Math.floor(2 ** 20 / size));
    for (let i = 1; i <= count; i++) {
      if (i % every === 0 || i === count) {
        await new Promise<void>((resolve) => process.send?.(msg, () => resolve()));
      } else {
        process.send?.(msg);
      }
    }
    await new Promise<void>((resolve) => process.once('disconnect', resolve));
  },
  async 'uds-send'([path, countArg, sizeArg]: string[]) {
    const socket = createConnection(path as string);
    await once(socket, 'connect');
    const size = Number(sizeArg);
    const count = Number(countArg);
    for (let i = 0; i < count; i++) {
      const frame = Buffer.allocUnsafe(4 + size);
      frame.writeUInt32LE(size, 0);
      frame.fill(0x61, 4);
      if (!socket.write(frame)) await once(socket, 'drain');
    }
    socket.end();
    await once(socket, 'close');
  },
};
