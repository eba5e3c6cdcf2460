import { afterEach, describe, expect, it } from 'vitest';
import { create, type Receiver } from '../src/index.js';
import { check } from './fixtures/pattern.mjs';
import {
  type Child,
  cleanup,
  expectExitedCleanly,
  fixture,
  parseOk,
  runNode,
  startChild,
  uniqueName,
} from './helpers.js';

afterEach(cleanup);

/**
 * Takes `count` messages from each of `senders` and checks each (content, and that every
 * sender's arrive in order, none missing or twice). Fails if nothing comes for `stallSec`.
 */
async function collect(
  rx: Receiver<Buffer>,
  senders: number[],
  count: number,
  stallSec = 30,
): Promise<Map<number, number>> {
  const next = new Map(senders.map((s) => [s, 0]));
  let left = senders.length * count;
  while (left > 0) {
    const msg = await rx.receive(stallSec);
    if (msg === null) throw new Error(`nothing for ${stallSec} s; next expected: ${[...next]}`);
    const [sender, seq] = check(msg);
    if (next.get(sender) !== seq) {
      throw new Error(`sender ${sender}: got ${seq}, expected ${next.get(sender)}`);
    }
    next.set(sender, seq + 1);
    left--;
  }
  return next;
}

function sender(name: string, id: number, count: number, mode: string): Child {
  return startChild(process.execPath, [fixture('send.mjs'), name, String(id), String(count), mode]);
}

describe('many senders to one receiver', () => {
  it('processes and worker threads, mixed: every message once, each sender in order', async () => {
    const name = uniqueName('many');
    const rx = create(name, { capacity: 16384 });
    const count = 3000;
    const children = [
      sender(name, 0, count, 'try'),
      sender(name, 1, count, 'promise'),
      sender(name, 2, count, 'sync'),
      sender(name, 3, count, 'workers:3'),
    ];
    try {
      await collect(rx, [0, 1, 2, 3, 4, 5], count);
      for (const out of await expectExitedCleanly(children)) expect(out).toContain('done');
      expect(rx.tryReceive()).toBeNull();
      expect(rx.senders).toBe(0);
    } finally {
      for (const c of children) c.kill();
      rx.close();
    }
  });

  it('memory ordering under stress: small rings that wrap constantly, records checked byte by byte', async () => {
    const name = uniqueName('order');
    // 4 KiB rings hold a dozen messages: senders run into a full ring and the receiver into an
    // empty one all the time, so every record is written while the receiver reads the ring.
    const rx = create(name, { capacity: 4096 });
    const count = 40_000;
    const children = [sender(name, 0, count, 'try'), sender(name, 1, count, 'workers:2')];
    try {
      await collect(rx, [0, 1, 2], count);
      for (const out of await expectExitedCleanly(children)) expect(out).toContain('done');
    } finally {
      for (const c of children) c.kill();
      rx.close();
    }
  });
});

describe('connecting while the channel is being created', () => {
  it('waits for the header instead of calling the segment "not a channel"', async () => {
    const out = parseOk(await runNode(fixture('race.mjs'), [uniqueName('race'), '10']));
    expect(out).toEqual({ ok: 10 });
  });
});
