import { readlinkSync } from 'node:fs';
import { spawn } from '@luaipc/proc';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, create } from '../src/index.js';
import {
  channelFiles,
  cleanup,
  fixture,
  parseOk,
  runNode,
  startChild,
  uniqueName,
} from './helpers.js';

afterEach(cleanup);

// The loop fixtures hold V8's young generation at its smallest (--max-semi-space-size=1), so RSS
// shows what the channel keeps rather than how far V8 grew its nursery. Shared-memory mappings
// must come back exactly; the count of all mappings only within a margin, because V8 maps heap
// pages of its own (a leak per cycle would add thousands).
const measuring = { nodeArgs: ['--expose-gc', '--max-semi-space-size=1'], timeoutMs: 110_000 };

describe('collection', () => {
  it('receivers and senders dropped unclosed are collected: names, descriptors, mappings go', async () => {
    const base = uniqueName('gc');
    const out = parseOk(await runNode(fixture('gc.mjs'), [base], { nodeArgs: ['--expose-gc'] }));
    expect(out.during.held).toBe(40);
    expect(out.after.files).toBe(0);
    expect(out.after.fds).toBe(out.before.fds);
    expect(out.after.sharedMaps).toBe(out.before.sharedMaps);
    expect(out.after.maps).toBeLessThanOrEqual(out.before.maps + 64);
    expect(channelFiles(base)).toEqual([]);
  });
});

describe('closing unmaps', () => {
  it('close() itself gives the segment back: mappings flat over cycles with no collection', async () => {
    const out = parseOk(await runNode(fixture('unmap.mjs'), [uniqueName('unmap'), '2000']));
    // Each closed handle kept its mapping until GC came round: one more per cycle.
    expect(out.connect).toEqual({ before: 1, after: 1 });
    expect(out.create).toEqual({ before: 0, after: 0 });
  });
});

describe("an iterator's return()", () => {
  it('ends its pending next(), which then keeps neither the process nor the receiver', async () => {
    const name = uniqueName('iret');
    const r = await runNode(fixture('iterator-return.mjs'), [name], {
      nodeArgs: ['--expose-gc'],
      timeoutMs: 20_000,
    });
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
    expect(JSON.parse(r.stdout)).toEqual({ next: { done: true }, files: [] });
    expect(channelFiles(name)).toEqual([]);
  });
});

describe('the end of the process', () => {
  for (const how of ['exit', 'throw']) {
    it(`${how === 'exit' ? 'process.exit()' : 'an uncaught exception'} still removes the creator's names`, async () => {
      const name = uniqueName('exit');
      const r = await runNode(fixture('exit.mjs'), [name, how]);
      expect(r.code).toBe(how === 'exit' ? 3 : 1);
      expect(channelFiles(name)).toEqual([]);
    });
  }
});

describe('the per-message path', () => {
  it('a sender makes no system call per message while the receiver is awake', async () => {
    const name = uniqueName('sys');
    const receiver = startChild(process.execPath, [fixture('syscalls.mjs'), name, 'receive']);
    await receiver.line('ready');
    const out = parseOk(await runNode(fixture('syscalls.mjs'), [name, 'send']));
    // 100k messages; what is left is the process's own (none expected here).
    expect(out.writes).toBeLessThan(20);
    expect(out.reads).toBeLessThan(20);
    expect((await receiver.done).code).toBe(0);
  });

  it('a pending receive() waits on the event loop, with no thread of ours (POSIX)', async () => {
    const out = parseOk(await runNode(fixture('threads.mjs'), [uniqueName('thr')]));
    expect(out).toEqual({ waiting: [], got: 'woken' });
  });
});

describe('loops users write stay flat', () => {
  it('10^5 messages in every form: descriptors, mappings, files and RSS flat', async () => {
    const base = uniqueName('loopm');
    const out = parseOk(await runNode(fixture('loops.mjs'), [base, 'messages'], measuring));
    expect(out.received).toBe(110_000);
    expect(out.after.fds).toBe(out.before.fds);
    expect(out.after.files).toBe(out.before.files);
    expect(out.after.sharedMaps).toBe(out.before.sharedMaps);
    expect(out.after.maps).toBeLessThanOrEqual(out.before.maps + 64);
    expect(out.after.rss - out.before.rss).toBeLessThan(16);
  });

  it('10^4 create/close: descriptors, mappings, files and RSS flat', async () => {
    const base = uniqueName('loopc');
    const out = parseOk(await runNode(fixture('loops.mjs'), [base, 'create'], measuring));
    expect(out.after.fds).toBe(out.before.fds);
    expect(out.after.files).toBe(0);
    expect(out.after.sharedMaps).toBe(out.before.sharedMaps);
    expect(out.after.maps).toBeLessThanOrEqual(out.before.maps + 64);
    expect(out.after.rss - out.before.rss).toBeLessThan(16);
  });

  it('10^4 connect/close: descriptors, mappings, files and RSS flat; every slot freed', async () => {
    const base = uniqueName('loopk');
    const out = parseOk(await runNode(fixture('loops.mjs'), [base, 'connect'], measuring));
    expect(out.senders).toBe(0);
    expect(out.after.fds).toBe(out.before.fds);
    expect(out.after.files).toBe(out.before.files);
    expect(out.after.sharedMaps).toBe(out.before.sharedMaps);
    expect(out.after.maps).toBeLessThanOrEqual(out.before.maps + 64);
    expect(out.after.rss - out.before.rss).toBeLessThan(16);
  });
});

describe('streams', () => {
  // The receiver works on every message, so the ring never empties: every receive could settle
  // at once, yet timers must still run. A receiver that never yielded to the event loop holds
  // the timer back for the whole stream (no tick at all); one that yields every few ms lets it
  // tick on time, but a loaded 2-CPU machine deschedules a busy process (and V8 collects a GiB
  // of Buffers) for up to a few hundred ms: hence the generous lateness bound, and the count of
  // ticks beside it.
  it('a GiB through one channel: RSS bounded, a 10 ms timer keeps firing', async () => {
    const out = parseOk(
      await runNode(fixture('stream.mjs'), [uniqueName('gib'), '1024', '65536', '50'], {
        timeoutMs: 110_000,
      }),
    );
    expect(out.received).toBe(2 ** 30);
    expect(out.peakMiB).toBeLessThan(300);
    expect(out.ticks).toBeGreaterThan(out.seconds * 10);
    expect(out.maxLateMs).toBeLessThan(500);
  });

  // A millisecond of work per 64 KiB message: eight of them outlast the turn's budget between
  // two readings of the clock. The budget must still end: only the event loop's turning starts
  // a new one.
  it('slow work per message: the 10 ms timer still fires from the first message on', async () => {
    const out = parseOk(
      await runNode(fixture('stream.mjs'), [uniqueName('slow'), '64', '65536', '1000'], {
        timeoutMs: 110_000,
      }),
    );
    expect(out.received).toBe(64 * 2 ** 20);
    expect(out.maxLateMs).toBeLessThan(500);
    expect(out.ticks).toBeGreaterThan(out.seconds * 10);
  });

  it('a million small messages: the 10 ms timer keeps firing', async () => {
    const out = parseOk(
      await runNode(fixture('stream.mjs'), [uniqueName('small'), '64', '64', '1'], {
        timeoutMs: 110_000,
      }),
    );
    expect(out.received).toBe(64 * 2 ** 20);
    expect(out.ticks).toBeGreaterThan(out.seconds * 10);
    expect(out.maxLateMs).toBeLessThan(500);
  });
});

describe('idle costs nothing', () => {
  for (const what of ['receive', 'send', 'receiveSync']) {
    it(`a ${what === 'send' ? 'send() waiting for room' : `pending ${what}()`} wakes at most once a second`, async () => {
      const out = parseOk(await runNode(fixture('idle.mjs'), [uniqueName('idle'), what]));
      // 3 s: at most the three once-a-second looks, and a few of the process's own.
      expect(out.switches).toBeLessThanOrEqual(8);
      expect(out.cpuMs).toBeLessThan(100);
    });
  }
});

describe('keeping the process alive', () => {
  it('idle handles do not', async () => {
    const r = await runNode(fixture('alive.mjs'), [uniqueName('alive'), 'idle'], {
      timeoutMs: 10_000,
    });
    expect({ code: r.code, timedOut: r.timedOut, stdout: r.stdout }).toEqual({
      code: 0,
      timedOut: false,
      stdout: 'idle\n',
    });
  });

  it('a pending receive() does, until its message comes', async () => {
    const name = uniqueName('alive');
    const child = startChild(process.execPath, [fixture('alive.mjs'), name, 'receive']);
    await child.line('ready');
    await new Promise((r) => setTimeout(r, 500));
    const tx = connect(name);
    tx.trySend('late but kept');
    tx.close();
    const r = await child.done;
    expect({ code: r.code, stdout: r.stdout }).toEqual({
      code: 0,
      stdout: 'ready\ngot late but kept\n',
    });
  });

  it('a send() waiting for room does, until there is room', async () => {
    const name = uniqueName('alive');
    const rx = create(name, { capacity: 4096 });
    const child = startChild(process.execPath, [fixture('alive.mjs'), name, 'send']);
    await child.line('full');
    await new Promise((r) => setTimeout(r, 500));
    expect(rx.tryReceive()).not.toBeNull();
    const r = await child.done;
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: 'full\nsent true\n' });
    rx.close();
  });
});

describe('descriptors', () => {
  it('doorbells and lock files are close-on-exec: a proc child inherits none', async () => {
    const name = uniqueName('exec');
    const rx = create(name, { capacity: 4096 });
    const tx = connect(name);
    // Every descriptor the channel has: the receiver's doorbell polled by the event loop, a
    // sender waiting for room on its own, the lock files.
    const receiving = rx.receive(5);
    while (tx.trySend(''));
    const sending = tx.send('x', 5);
    const ours = (link: string) => link.includes(name);
    const mine = (await import('node:fs'))
      .readdirSync('/proc/self/fd')
      .map((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`);
        } catch {
          return '';
        }
      })
      .filter(ours);
    expect(mine.length).toBeGreaterThanOrEqual(4);
    let listing = '';
    const child = spawn(['sh', '-c', 'ls -l /proc/$$/fd'], {
      stdout: true,
      callback: (_stream, data) => {
        if (data) listing += data;
      },
    });
    expect(await child.wait()).toEqual([true, 'exit', 0]);
    // The listing is real (the child's own stdio is in it), and none of ours is.
    expect(listing).toMatch(/ 1 -> /);
    expect(listing.split('\n').filter(ours)).toEqual([]);
    rx.tryReceive();
    expect(await sending).toBe(true);
    expect(await receiving).not.toBeNull();
    tx.close();
    rx.close();
  });
});
