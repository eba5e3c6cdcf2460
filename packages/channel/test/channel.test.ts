import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, create, IpcError, MAX_CAPACITY, MAX_SENDERS, unlink } from '../src/index.js';
import { channelFiles, cleanup, expectClosed, ipcError, sleep, uniqueName } from './helpers.js';

afterEach(cleanup);

describe('messages', () => {
  it('strings and bytes arrive whole and in order; a string to a buffer receiver is its UTF-8', () => {
    const name = uniqueName();
    const rx = create(name);
    const tx = connect(name);
    expect(tx.trySend('héllo ✓')).toBe(true);
    expect(tx.trySend(new Uint16Array([1, 0x203]))).toBe(true);
    expect(tx.trySend(new DataView(new Uint8Array([9, 8, 7]).buffer, 1, 2))).toBe(true);
    expect(rx.tryReceive()).toEqual(Buffer.from('héllo ✓'));
    expect(rx.tryReceive()).toEqual(Buffer.from([1, 0, 3, 2]));
    expect(rx.tryReceive()).toEqual(Buffer.from([8, 7]));
    expect(rx.tryReceive()).toBeNull();
    tx.close();
    rx.close();
  });

  it("encoding 'utf8' and 'latin1' give strings; empty messages are messages", () => {
    const name = uniqueName();
    const rx = create(name, { encoding: 'utf8' });
    const tx = connect(name);
    tx.trySend('');
    tx.trySend(Buffer.from([0xe2, 0x9c, 0x93]));
    tx.trySend('');
    expect(rx.tryReceive()).toBe('');
    expect(rx.tryReceive()).toBe('✓');
    expect(rx.tryReceive()).toBe('');
    expect(rx.tryReceive()).toBeNull();
    tx.close();
    rx.close();
    const name2 = uniqueName();
    const rx2 = create(name2, { encoding: 'latin1' });
    const tx2 = connect(name2);
    tx2.trySend(Buffer.from([0xe9, 0, 0xff]));
    expect(rx2.tryReceive()).toBe('é\u0000ÿ');
    tx2.close();
    rx2.close();
  });

  it("received Buffers are the receiver's own: later messages and writes leave them alone", () => {
    const name = uniqueName();
    const rx = create(name, { capacity: 4096 });
    const tx = connect(name);
    tx.trySend('first');
    const first = rx.tryReceive() as Buffer;
    // Wrap the 4 KiB ring many times over the bytes `first` came from.
    for (let i = 0; i < 2000; i++) {
      expect(tx.trySend(`overwrite ${i} ${'x'.repeat(i % 300)}`)).toBe(true);
      expect((rx.tryReceive() as Buffer).toString()).toBe(`overwrite ${i} ${'x'.repeat(i % 300)}`);
    }
    expect(first.toString()).toBe('first');
    tx.trySend('a');
    tx.trySend('b');
    const a = rx.tryReceive() as Buffer;
    const b = rx.tryReceive() as Buffer;
    a[0] = 0x7a;
    expect(b.toString()).toBe('b');
    expect(Buffer.isBuffer(a)).toBe(true);
    tx.close();
    rx.close();
  });

  it('records that wrap around the ring end arrive intact (every offset, text and bytes)', () => {
    for (const encoding of ['buffer', 'utf8'] as const) {
      const name = uniqueName();
      const rx = create(name, { capacity: 4096, encoding });
      const tx = connect(name);
      for (let i = 0; i < 3000; i++) {
        const text = `${i}:${'é'.repeat(i % 97)}`;
        expect(tx.trySend(text)).toBe(true);
        const got = rx.tryReceive();
        expect(encoding === 'buffer' ? (got as Buffer).toString() : got).toBe(text);
      }
      tx.close();
      rx.close();
    }
  });

  it('capacity rounds up to a power of two; maxMessage follows it (at least a quarter)', () => {
    const rx = create(uniqueName(), { capacity: 5000 });
    expect(rx.capacity).toBe(8192);
    expect(rx.maxMessage).toBe(8188);
    expect(rx.maxMessage).toBeGreaterThanOrEqual(rx.capacity / 4);
    rx.close();
    const small = create(uniqueName(), { capacity: 1 });
    expect(small.capacity).toBe(4096);
    small.close();
    const dflt = create(uniqueName());
    expect([dflt.capacity, dflt.maxSenders, dflt.encoding]).toEqual([1 << 20, 64, 'buffer']);
    dflt.close();
    expect(MAX_CAPACITY).toBe(2 ** 30);
    expect(MAX_SENDERS).toBe(1024);
  });

  it('a message over maxMessage is a RangeError and the channel stays usable', () => {
    const name = uniqueName();
    const rx = create(name, { capacity: 4096 });
    const tx = connect(name);
    expect(tx.maxMessage).toBe(4092);
    const err = (() => {
      try {
        tx.trySend(Buffer.alloc(4093));
      } catch (e) {
        return e as RangeError & { code: string };
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(RangeError);
    expect(err?.code).toBe('ERR_OUT_OF_RANGE');
    expect(() => tx.sendSync('é'.repeat(2047))).toThrow(RangeError);
    expect(tx.trySend(Buffer.alloc(4092, 7))).toBe(true);
    expect(tx.trySend('x')).toBe(false);
    expect(rx.tryReceive()).toEqual(Buffer.alloc(4092, 7));
    expect(tx.trySend('still works')).toBe(true);
    expect(rx.tryReceive()?.toString()).toBe('still works');
    tx.close();
    rx.close();
  });
});

describe('waiting', () => {
  it('receive() resolves when a message comes; null at the timeout; 0 only looks', async () => {
    const name = uniqueName();
    const rx = create(name, { encoding: 'utf8' });
    const tx = connect(name);
    const t0 = performance.now();
    expect(await rx.receive(0.1)).toBeNull();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(90);
    expect(await rx.receive(0)).toBeNull();
    expect(await rx.receive({ timeout: 0 })).toBeNull();
    const pending = rx.receive();
    setTimeout(() => tx.trySend('late'), 30);
    expect(await pending).toBe('late');
    tx.trySend('ready');
    expect(await rx.receive(0)).toBe('ready');
    tx.close();
    rx.close();
  });

  it('several pending receives are served in call order, each with its own timeout', async () => {
    const name = uniqueName();
    const rx = create(name, { encoding: 'utf8' });
    const tx = connect(name);
    const a = rx.receive();
    const b = rx.receive(0.05);
    const c = rx.receive();
    expect(await b).toBeNull();
    tx.trySend('1');
    tx.trySend('2');
    expect(await a).toBe('1');
    expect(await c).toBe('2');
    // tryReceive does not jump the queue of pending receives.
    const d = rx.receive();
    tx.trySend('3');
    tx.trySend('4');
    expect(rx.tryReceive()).toBe('4');
    expect(await d).toBe('3');
    tx.close();
    rx.close();
  });

  it('an AbortSignal rejects a pending receive with its reason; others go on', async () => {
    const name = uniqueName();
    const rx = create(name, { encoding: 'utf8' });
    const tx = connect(name);
    const ac = new AbortController();
    const aborted = rx.receive({ signal: ac.signal });
    const kept = rx.receive();
    ac.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    await expect(rx.receive({ signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
    tx.trySend('for kept');
    expect(await kept).toBe('for kept');
    tx.close();
    rx.close();
  });

  it('an already-aborted signal rejects at once and takes nothing, even when the call could finish', async () => {
    const name = uniqueName();
    const rx = create(name, { encoding: 'utf8' });
    const tx = connect(name);
    const reason = new Error('aborted before');
    const signal = AbortSignal.abort(reason);
    await expect(tx.send('S', 1, { signal })).rejects.toBe(reason);
    await expect(tx.send('S', { timeout: 0, signal })).rejects.toBe(reason);
    expect(rx.tryReceive()).toBeNull();
    tx.trySend('W');
    await expect(rx.receive(1, { signal })).rejects.toBe(reason);
    await expect(rx.receive({ timeout: 0, signal })).rejects.toBe(reason);
    expect(rx.tryReceive()).toBe('W');
    tx.close();
    rx.close();
  });

  it('receiveSync waits for a message from another thread of work, or times out', () => {
    const name = uniqueName();
    const rx = create(name, { encoding: 'utf8' });
    const tx = connect(name);
    const t0 = performance.now();
    expect(rx.receiveSync(0.1)).toBeNull();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(90);
    tx.trySend('now');
    expect(rx.receiveSync()).toBe('now');
    expect(rx.receiveSync(0)).toBeNull();
    tx.close();
    rx.close();
  });

  it('a full ring: trySend is false, send waits for room, sendSync times out', async () => {
    const name = uniqueName();
    const rx = create(name, { capacity: 4096 });
    const tx = connect(name);
    const msg = Buffer.alloc(1000, 1);
    let n = 0;
    while (tx.trySend(msg)) n++;
    expect(n).toBe(4);
    expect(await tx.send(msg, 0)).toBe(false);
    expect(await tx.send(msg, 0.05)).toBe(false);
    expect(tx.sendSync(msg, 0.05)).toBe(false);
    const waiting = tx.send(Buffer.alloc(1000, 2));
    const after = tx.send(Buffer.alloc(1000, 3));
    // Pending sends keep their order: a trySend now must not jump them.
    expect(tx.trySend(Buffer.alloc(10, 4))).toBe(false);
    await sleep(20);
    expect(rx.tryReceive()).toEqual(msg);
    expect(await waiting).toBe(true);
    rx.tryReceive();
    expect(await after).toBe(true);
    const got = [];
    for (let m = rx.tryReceive(); m !== null; m = rx.tryReceive()) got.push((m as Buffer)[0]);
    expect(got).toEqual([1, 1, 2, 3]);
    tx.close();
    rx.close();
  });

  it('for await takes every message and ends at close; break leaves the receiver open', async () => {
    const name = uniqueName();
    const rx = create(name, { encoding: 'utf8' });
    const tx = connect(name);
    for (const m of ['a', 'b', 'c']) tx.trySend(m);
    const seen: string[] = [];
    for await (const m of rx) {
      seen.push(m);
      if (m === 'b') break;
    }
    expect(rx.closed).toBe(false);
    const rest: string[] = [];
    const loop = (async () => {
      for await (const m of rx) rest.push(m);
      return 'ended';
    })();
    await sleep(20);
    tx.trySend('d');
    await sleep(20);
    rx.close();
    expect(await loop).toBe('ended');
    expect(seen).toEqual(['a', 'b']);
    expect(rest).toEqual(['c', 'd']);
    tx.close();
  });
});

describe('closing', () => {
  it('close() rejects pending receives at once (ECANCELED) and discards what was left', async () => {
    const name = uniqueName();
    const rx = create(name);
    const tx = connect(name);
    const pending = rx.receive();
    const t0 = performance.now();
    rx.close();
    await expect(pending).rejects.toMatchObject({ name: 'IpcError', code: 'ECANCELED' });
    expect(performance.now() - t0).toBeLessThan(1000);
    rx.close();
    expect(rx.closed).toBe(true);
    expectClosed(() => rx.tryReceive(), 'channel');
    expectClosed(() => rx.receiveSync(0), 'channel');
    await expect(rx.receive()).rejects.toMatchObject({ code: 'ERR_IPC_CLOSED' });
    expectClosed(() => rx.senders, 'channel');
    // The sender sees the receiver gone.
    const err = ipcError(() => tx.trySend('x'));
    expect([err.code, err.syscall, err.path]).toEqual(['EPIPE', 'send', name]);
    tx.close();
  });

  it("the receiver's close: a full ring is EPIPE at the next call, not 'full'", async () => {
    const name = uniqueName();
    const rx = create(name, { capacity: 4096 });
    const tx = connect(name);
    tx.trySend(Buffer.alloc(4092));
    // Full while the receiver lives (this also spends the sender's once-a-second probe).
    expect(tx.trySend('x')).toBe(false);
    rx.close();
    expect(ipcError(() => tx.trySend('x')).code).toBe('EPIPE');
    expect(ipcError(() => tx.sendSync('x', 5)).code).toBe('EPIPE');
    await expect(tx.send('x', 5)).rejects.toMatchObject({ code: 'EPIPE' });
    tx.close();
    // The sender made no doorbell that nobody would remove.
    expect(channelFiles(name)).toEqual([]);
  });

  it("the receiver's close wakes a send waiting for room: EPIPE before the once-a-second look", async () => {
    const name = uniqueName();
    const rx = create(name, { capacity: 4096 });
    const tx = connect(name);
    tx.trySend(Buffer.alloc(4092));
    const pending = [tx.send('a'), tx.send('b', 10)];
    await sleep(50);
    const t0 = performance.now();
    rx.close();
    for (const p of pending) await expect(p).rejects.toMatchObject({ code: 'EPIPE' });
    // Woken by the close's ring; the periodic look would have come a second later. (Generous:
    // a loaded machine delays the wake-up itself.)
    expect(performance.now() - t0).toBeLessThan(700);
    tx.close();
    expect(channelFiles(name)).toEqual([]);
  });

  it("an iterator's return() ends its pending next() ({ done: true }), taking nothing", async () => {
    const name = uniqueName();
    const rx = create(name);
    const tx = connect(name);
    const it = rx[Symbol.asyncIterator]();
    const pending = it.next();
    const other = rx.receive();
    expect(await it.return?.()).toEqual({ value: undefined, done: true });
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(await it.next()).toEqual({ value: undefined, done: true });
    // The receive() of someone else still waits, and gets the message.
    tx.trySend('m');
    expect(String(await other)).toBe('m');
    tx.close();
    rx.close();
  });

  it('a sender closed with a pending send rejects it (ECANCELED); use after close throws', async () => {
    const name = uniqueName();
    const rx = create(name, { capacity: 4096 });
    const tx = connect(name);
    tx.trySend(Buffer.alloc(2000));
    while (tx.trySend(''));
    const pending = tx.send('x');
    tx.close();
    tx.close();
    await expect(pending).rejects.toMatchObject({ name: 'IpcError', code: 'ECANCELED' });
    expect(tx.closed).toBe(true);
    expectClosed(() => tx.trySend('x'), 'channel');
    expectClosed(() => tx.sendSync('x', 0), 'channel');
    await expect(tx.send('x')).rejects.toMatchObject({ code: 'ERR_IPC_CLOSED' });
    // What it sent before closing is still delivered.
    expect(rx.tryReceive()).toEqual(Buffer.alloc(2000));
    rx.close();
  });

  it("the receiver's close removes every file of the channel; `using` closes too", () => {
    const name = uniqueName();
    {
      using rx = create(name);
      using tx = connect(name);
      tx.trySend('x');
      expect(channelFiles(name).length).toBeGreaterThanOrEqual(3);
      expect(rx.tryReceive()?.toString()).toBe('x');
    }
    expect(channelFiles(name)).toEqual([]);
  });

  it('close() lets go of the mapping itself: no GC needed for the memory (or a Windows name)', async () => {
    const { readFileSync } = await import('node:fs');
    const name = uniqueName();
    const mapped = () =>
      readFileSync('/proc/self/maps', 'utf8')
        .split('\n')
        .filter((l) => l.includes(`/dev/shm/${name}`)).length;
    const rx = create(name);
    const tx = connect(name);
    tx.trySend('x');
    await rx.receive();
    expect(mapped()).toBe(2);
    tx.close();
    rx.close();
    await new Promise((r) => setImmediate(r));
    expect(mapped()).toBe(0);
  });

  it('senders counts the live ones', () => {
    const name = uniqueName();
    const rx = create(name);
    expect(rx.senders).toBe(0);
    const a = connect(name);
    const b = connect(name);
    expect(rx.senders).toBe(2);
    a.trySend('from a');
    a.close();
    expect(rx.senders).toBe(1);
    expect(rx.tryReceive()?.toString()).toBe('from a');
    b.close();
    expect(rx.senders).toBe(0);
    rx.close();
  });

  it('a slot is reused after its sender closed, and slots run out with EAGAIN', () => {
    const name = uniqueName();
    const rx = create(name, { maxSenders: 2 });
    const a = connect(name);
    const b = connect(name);
    const err = ipcError(() => connect(name));
    expect([err.code, err.syscall]).toEqual(['EAGAIN', 'connect']);
    expect(err.message).toContain('all 2 sender slots are taken');
    a.trySend('a1');
    a.close();
    // The slot is free once its messages were taken.
    expect(ipcError(() => connect(name)).code).toBe('EAGAIN');
    expect(rx.tryReceive()?.toString()).toBe('a1');
    expect(rx.senders).toBe(1);
    const c = connect(name);
    c.trySend('c1');
    b.trySend('b1');
    const got = [rx.tryReceive()?.toString(), rx.tryReceive()?.toString()].sort();
    expect(got).toEqual(['b1', 'c1']);
    b.close();
    c.close();
    rx.close();
  });
});

describe('names', () => {
  it('connect before create is ENOENT; create twice is EEXIST; unlink recovers a leaked one', () => {
    const name = uniqueName();
    const missing = ipcError(() => connect(name));
    expect([missing.code, missing.syscall, missing.path]).toEqual(['ENOENT', 'shm_open', name]);
    const rx = create(name);
    const twice = ipcError(() => create(name));
    expect([twice.code, twice.path]).toEqual(['EEXIST', name]);
    rx.close();
    expect(ipcError(() => connect(name)).code).toBe('ENOENT');
    expect(ipcError(() => unlink(name)).code).toBe('ENOENT');
    const again = create(name);
    unlink(name);
    expect(channelFiles(name)).toEqual([]);
    again.close();
  });

  it('a name longer than the limit is ENAMETOOLONG up front', () => {
    const err = ipcError(() => create('n'.repeat(300)));
    expect(err.code).toBe('ENAMETOOLONG');
    expect(ipcError(() => connect('n'.repeat(300))).code).toBe('ENAMETOOLONG');
  });

  it('objects are created mode 0600', async () => {
    const name = uniqueName();
    const rx = create(name);
    const tx = connect(name);
    // A waiting sender makes its slot's doorbell.
    while (tx.trySend(Buffer.alloc(60000)));
    while (tx.trySend('x'));
    const pending = tx.send('x', 0.05);
    const { statSync } = await import('node:fs');
    const files = channelFiles(name);
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files)
      expect({ f, mode: statSync(f).mode & 0o777 }).toEqual({ f, mode: 0o600 });
    expect(await pending).toBe(false);
    tx.close();
    rx.close();
    expect(existsSync(`/dev/shm/${name}`)).toBe(false);
  });

  it('constructors are not for user code', async () => {
    const { Receiver, Sender } = await import('../src/index.js');
    expect(() => new (Receiver as unknown as new () => unknown)()).toThrow(TypeError);
    expect(() => new (Sender as unknown as new () => unknown)()).toThrow(TypeError);
    expect(IpcError).toBeTypeOf('function');
  });
});
