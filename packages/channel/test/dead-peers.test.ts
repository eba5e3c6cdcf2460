import { afterEach, describe, expect, it } from 'vitest';
import { connect, create, type Receiver, unlink } from '../src/index.js';
import { check } from './fixtures/pattern.mjs';
import {
  type Child,
  cleanup,
  fixture,
  ipcError,
  parseOk,
  runNode,
  sleep,
  startChild,
  uniqueName,
} from './helpers.js';

afterEach(cleanup);

const FOREVER = String(1e9);

function sender(name: string, id: number, count: string, mode = 'try'): Child {
  return startChild(process.execPath, [fixture('send.mjs'), name, String(id), count, mode]);
}

/**
 * Receives in the background, checking every message (content; each sender in order, none
 * missing or twice), and remembers when each sender's messages arrived.
 */
function follow(rx: Receiver<Buffer>) {
  const next = new Map<number, number>();
  const arrivals = new Map<number, number[]>();
  let error: unknown;
  let running = true;
  const done = (async () => {
    while (running) {
      const msg = await rx.receive(0.2).catch((e) => {
        // Closed (the test is over, or failed) or broken: either way this loop is done.
        if (running) error = e;
        running = false;
        return null;
      });
      if (msg === null) continue;
      const [s, seq] = check(msg);
      if ((next.get(s) ?? 0) !== seq) {
        error = new Error(`sender ${s}: got ${seq}, expected ${next.get(s) ?? 0}`);
        running = false;
      }
      next.set(s, seq + 1);
      const times = arrivals.get(s) ?? [];
      if (times.length === 0) arrivals.set(s, times);
      times.push(performance.now());
    }
  })();
  return {
    next,
    /** The longest pause in sender `s`'s arrivals from `from` on (ms). */
    longestGap(s: number, from: number): number {
      const times = (arrivals.get(s) ?? []).filter((t) => t >= from);
      let gap = times.length > 0 ? (times[0] as number) - from : Number.POSITIVE_INFINITY;
      for (let i = 1; i < times.length; i++)
        gap = Math.max(gap, (times[i] as number) - (times[i - 1] as number));
      return gap;
    },
    count: (s: number) => next.get(s) ?? 0,
    async stop() {
      running = false;
      await done;
      if (error !== undefined) throw error;
    },
  };
}

async function until(what: () => boolean, ms: number): Promise<number> {
  const t0 = performance.now();
  while (!what()) {
    if (performance.now() - t0 > ms) throw new Error(`not within ${ms} ms`);
    await sleep(10);
  }
  return performance.now() - t0;
}

describe('a sender killed with SIGKILL', () => {
  it('at random points mid-stream costs only its own unfinished message; the others go on at once', async () => {
    const name = uniqueName('kill');
    const rx = create(name, { capacity: 8192, maxSenders: 3 });
    const f = follow(rx);
    const children: Child[] = [];
    try {
      let id = 0;
      const start = () => {
        const c = sender(name, id++, FOREVER);
        children.push(c);
        return c;
      };
      const survivor = start();
      await survivor.line('connected');
      for (let round = 0; round < 4; round++) {
        const victims = [start(), start()];
        for (const v of victims) await v.line('connected');
        for (const v of victims) {
          await sleep(50 + Math.random() * 250);
          const killedAt = performance.now();
          const before = f.count(0);
          v.kill('SIGKILL');
          // The survivor's messages keep coming (a sender's ring is its own: no wait at all).
          await until(() => f.count(0) > before + 200, 5000);
          expect(f.longestGap(0, killedAt)).toBeLessThan(1000);
        }
        for (const v of victims) expect((await v.done).signal).toBe('SIGKILL');
        // Their slots are freed once what they committed was taken; new senders get them.
        const ms = await until(() => rx.senders === 1, 3000);
        expect(ms).toBeLessThan(1500);
      }
      expect(f.count(0)).toBeGreaterThan(1000);
      for (let s = 1; s < id; s++) expect(f.count(s)).toBeGreaterThan(0);
      await f.stop();
    } finally {
      for (const c of children) c.kill();
      rx.close();
    }
  });

  it("its half-written record never arrives; the slot's next sender overwrites it cleanly", async () => {
    const name = uniqueName('part');
    const rx = create(name, { capacity: 4096, maxSenders: 1, encoding: 'utf8' });
    const child = startChild(process.execPath, [fixture('partial.mjs'), name, '3']);
    try {
      await child.line('partial');
      child.kill('SIGKILL');
      await child.done;
      expect([rx.receiveSync(1), rx.receiveSync(1), rx.receiveSync(1)]).toEqual([
        'whole 0',
        'whole 1',
        'whole 2',
      ]);
      expect(rx.tryReceive()).toBeNull();
      expect(rx.senders).toBe(0);
      const tx = connect(name);
      tx.sendSync('next sender');
      expect(rx.receiveSync(1)).toBe('next sender');
      expect(rx.tryReceive()).toBeNull();
      tx.close();
    } finally {
      child.kill();
      rx.close();
    }
  });
});

describe('a receiver killed with SIGKILL', () => {
  it('a send waiting for room rejects with EPIPE within a second', async () => {
    const name = uniqueName('rxkill');
    const child = startChild(process.execPath, [fixture('receive.mjs'), name, '4096']);
    try {
      await child.line('ready');
      const tx = connect(name);
      while (tx.trySend(''));
      const pending = tx.send('x');
      await sleep(100);
      const t0 = performance.now();
      child.kill('SIGKILL');
      const err = await pending.then(
        () => undefined,
        (e) => e,
      );
      const ms = performance.now() - t0;
      expect(err).toMatchObject({ name: 'IpcError', code: 'EPIPE', syscall: 'send', path: name });
      // The waiting send asks once a second (the idle bound) whether the receiver lives; the
      // rest of the bound is room for a loaded machine.
      expect(ms).toBeLessThan(1500);
      expect(ipcError(() => tx.trySend('y')).code).toBe('EPIPE');
      tx.close();
    } finally {
      child.kill();
    }
  });

  it('ringing a dead receiver is EPIPE at once; connect is ECONNREFUSED; unlink then create recovers', async () => {
    const name = uniqueName('rxdead');
    // The child waits in receive(): it sleeps on its doorbell, so the next send rings it.
    const child = startChild(process.execPath, [fixture('receive.mjs'), name, '4096', '1']);
    try {
      await child.line('ready');
      const tx = connect(name);
      await sleep(100);
      child.kill('SIGKILL');
      await child.done;
      const err = ipcError(() => tx.trySend('into the void'));
      expect([err.code, err.syscall]).toEqual(['EPIPE', 'send']);
      tx.close();
      expect(ipcError(() => connect(name)).code).toBe('ECONNREFUSED');
      expect(ipcError(() => create(name)).code).toBe('EEXIST');
      unlink(name);
      const rx = create(name);
      const again = connect(name);
      again.trySend('hello');
      expect(rx.tryReceive()?.toString()).toBe('hello');
      again.close();
      rx.close();
    } finally {
      child.kill();
    }
  });
});

describe('a stopped sender', () => {
  it('SIGSTOP holds up nobody and loses nothing: after SIGCONT everything arrives in order', async () => {
    const name = uniqueName('stop');
    const rx = create(name, { capacity: 8192 });
    const f = follow(rx);
    const count = 20_000;
    const stopped = sender(name, 1, String(count));
    const other = sender(name, 0, FOREVER);
    try {
      await stopped.line('connected');
      await other.line('connected');
      await until(() => f.count(1) > 500, 5000);
      stopped.kill('SIGSTOP');
      const stoppedAt = performance.now();
      // What it committed before the stop is still in its ring and arrives; then nothing.
      await sleep(300);
      const at = f.count(1);
      await sleep(1200);
      // Not dead: its slot is kept, and the other sender went on all along.
      expect(rx.senders).toBe(2);
      expect(f.count(1)).toBe(at);
      expect(f.longestGap(0, stoppedAt)).toBeLessThan(1000);
      stopped.kill('SIGCONT');
      await until(() => f.count(1) === count, 20_000);
      const r = await stopped.done;
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      await f.stop();
    } finally {
      stopped.kill('SIGCONT');
      stopped.kill();
      other.kill();
      rx.close();
    }
  });
});

describe('worker threads', () => {
  it('a worker terminated mid-send costs its slot only; the other worker goes on', async () => {
    const r = await runNode(fixture('terminate.mjs'), [uniqueName('wterm'), 'stream']);
    const out = parseOk(r);
    expect(out.victim).toBe(true);
    expect(out.survivor).toBeGreaterThan(20_000);
    expect(out.gap).toBeLessThan(1000);
    expect(out.senders).toBe(1);
  });

  for (const what of ['sendSync', 'receiveSync']) {
    it(`a worker blocked in ${what}() is terminated promptly`, async () => {
      const out = parseOk(await runNode(fixture('terminate.mjs'), [uniqueName('wsync'), what]));
      // 100 ms is the aim (the wait looks every 50 ms); the bound leaves room for a loaded
      // machine, while a wait that ignored terminate() would never end.
      expect(out.ms).toBeLessThan(1000);
      if (what === 'sendSync') expect(out.senders).toBe(0);
      else expect(out.left).toBe(false);
    });
  }
});
