// The Promise-form wait: cancellation by AbortSignal, timeout and FileHandle close, and what it
// leaves behind; use after close; pending waits and the event loop.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { IpcError, lock, lockSync, OFD_LOCKS, trylock, unlock } from '../src/index.js';
import { type Child, cleanup, nodePeer, tempFile } from './helpers.js';

const fds: number[] = [];
function openFd(path: string, flags = 'r+'): number {
  const fd = openSync(path, flags);
  fds.push(fd);
  return fd;
}

afterEach(async () => {
  for (const fd of fds.splice(0)) closeSync(fd);
  await cleanup();
});

/** A file whose whole range a peer process holds exclusively. */
async function held(): Promise<{ path: string; peer: Child }> {
  const path = tempFile();
  const peer = await nodePeer(path);
  expect(await peer.send('lock w 0 0')).toBe('locked');
  return { path, peer };
}

/** Releases the peer's lock and checks that nobody (no wait of ours) holds any of the file. */
async function expectFreeAfterRelease(peer: Child): Promise<void> {
  expect(await peer.send('unlock 0 0')).toBe('unlocked');
  await sleep(50);
  expect(await peer.send('try w 0 0')).toBe('true');
  expect(await peer.send('unlock 0 0')).toBe('unlocked');
}

describe('cancelling a pending lock()', () => {
  it('an AbortSignal rejects it with its reason; no lock is left behind', async () => {
    const { path, peer } = await held();
    const fd = openFd(path);
    const controller = new AbortController();
    const p = lock(fd, 'w', { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    const reason = new Error('stop');
    const again = new AbortController();
    const q = lock(fd, 'r', 0, 10, { timeout: 30, signal: again.signal });
    again.abort(reason);
    await expect(q).rejects.toBe(reason);
    await expectFreeAfterRelease(peer);
  });

  it('an already aborted signal rejects without locking, even when the range is free', async () => {
    const path = tempFile();
    const fd = openFd(path);
    const peer = await nodePeer(path);
    const reason = new Error('already');
    await expect(lock(fd, 'w', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(await peer.send('try w 0 0')).toBe('true');
  });

  it('a timeout resolves false; no lock is left behind', async () => {
    const { path, peer } = await held();
    const fd = openFd(path);
    await expect(lock(fd, 'w', 0, 0, { timeout: 0.1 })).resolves.toBe(false);
    await expect(
      lock(fd, 'r', { timeout: 0.05, signal: new AbortController().signal }),
    ).resolves.toBe(false);
    await expectFreeAfterRelease(peer);
  });

  it('closing the FileHandle rejects it with IpcError ECANCELED; no lock is left behind', async () => {
    const { path, peer } = await held();
    const fh = await open(path, 'r+');
    const p = lock(fh, 'w');
    setTimeout(() => void fh.close(), 50);
    const error = await p.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IpcError);
    expect(error).toMatchObject({ name: 'IpcError', code: 'ECANCELED', syscall: 'fcntl' });
    await expectFreeAfterRelease(peer);
  });

  it('one close rejects every lock() pending on the FileHandle, with one listener', async () => {
    const { path, peer } = await held();
    const fh = await open(path, 'r+');
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const pending = Array.from({ length: 12 }, (_, i) => lock(fh, i % 2 ? 'r' : 'w', i, 1));
      const settled = Promise.allSettled(pending);
      await sleep(50);
      expect((fh as unknown as NodeJS.EventEmitter).listenerCount('close')).toBe(1);
      await fh.close();
      const results = await settled;
      expect(results.map((r) => r.status)).toEqual(Array(12).fill('rejected'));
      for (const r of results) {
        expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'ECANCELED' });
      }
      await sleep(10);
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
    await expectFreeAfterRelease(peer);
  });

  it('cancelled just as the holder releases, 30 times: the lock is never left held', async () => {
    const { path, peer } = await held();
    const fd = openFd(path);
    for (let i = 0; i < 30; i++) {
      const how = i % 3;
      const controller = new AbortController();
      const fh = how === 2 ? await open(path, 'r+') : undefined;
      const p =
        how === 0
          ? lock(fd, 'w', { signal: controller.signal })
          : how === 1
            ? lock(fd, 'w', { timeout: 0.02 })
            : lock(fh as Awaited<ReturnType<typeof open>>, 'w');
      const settled = p.then(
        (v) => v,
        (e: Error) => (e instanceof IpcError ? e.code : e.name),
      );
      await sleep(5 + (i % 5) * 4);
      peer.write('unlock 0 0\n');
      if (how === 0) controller.abort();
      else if (how === 2) await fh?.close();
      const outcome = await settled;
      expect(await peer.next()).toBe('unlocked');
      // Granted before the cancellation: ours to release.
      if (outcome === true) unlock(fd);
      else expect([false, 'AbortError', 'ECANCELED'], `round ${i}`).toContain(outcome);
      await sleep(20);
      expect(await peer.send('try w 0 0')).toBe('true'); // nothing of ours is left
    }
  });

  it('finished waits leave no descriptor behind (the duplicate a wait locks through is closed)', async () => {
    const { path, peer } = await held();
    const fd = openFd(path);
    const count = () => readdirSync('/proc/self/fd').length;
    const before = count();
    for (let i = 0; i < 20; i++) {
      const controller = new AbortController();
      const p = lock(fd, 'w', { signal: controller.signal });
      controller.abort();
      await expect(p).rejects.toMatchObject({ name: 'AbortError' });
      await expect(lock(fd, 'r', { timeout: 0.01 })).resolves.toBe(false);
    }
    const granted = lock(fd, 'r');
    expect(await peer.send('unlock 0 0')).toBe('unlocked');
    await expect(granted).resolves.toBe(true);
    await sleep(50); // a cancelled wait lets go of its duplicate when its thread returns
    expect(count()).toBe(before);
  });

  it('each pending lock() honours its own timeout and abort, whatever the others do', async () => {
    const { path, peer } = await held();
    const fd = openFd(path);
    const untimed = lock(fd, 'w');
    const t0 = performance.now();
    await expect(lock(fd, 'w', { timeout: 0.1 })).resolves.toBe(false);
    expect(performance.now() - t0).toBeLessThan(1500);
    const controller = new AbortController();
    // Its own byte: with classic per-process locks (the portable build) a late grant to this
    // cancelled wait and its undo act on the process's locks, so it must not overlap the others.
    const aborted = lock(fd, 'r', 100, 1, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    expect(await peer.send('unlock 0 0')).toBe('unlocked');
    await expect(untimed).resolves.toBe(true);
    expect(await peer.send('try r 0 0')).toBe('false');
  });
});

describe('closing the descriptor number under a pending lock()', () => {
  /** Settles to the value, or to the rejection's code. */
  const outcome = (p: Promise<boolean>) =>
    p.then(
      (v) => v,
      (e: { code?: string; name?: string }) => e.code ?? e.name,
    );
  /** Bounds a wait that could hang: 'pending' after `ms`. */
  const within = <T>(p: Promise<T>, ms: number) =>
    Promise.race([p, sleep(ms).then(() => 'pending' as const)]);

  it('rejects with ECANCELED while the holder still holds, and lets go of its duplicate', async () => {
    const { path, peer } = await held();
    const count = () => readdirSync('/proc/self/fd').length;
    const fd = openSync(path, 'r+');
    const before = count();
    const p = outcome(lock(fd, 'w'));
    await sleep(50);
    closeSync(fd);
    // Noticed at the wait's next check, at most a second later.
    expect(await within(p, 10_000)).toBe('ECANCELED');
    await sleep(50);
    expect(count()).toBe(before - 1);
    await expectFreeAfterRelease(peer);
  });

  it('the holder releases right after the close: ECANCELED, never true, and nothing stays held', async () => {
    const { path, peer } = await held();
    for (let i = 0; i < 10; i++) {
      const fd = openSync(path, 'r+');
      const p = outcome(lock(fd, i % 2 ? 'w' : 'r', { timeout: 30 }));
      await sleep(20);
      closeSync(fd);
      await sleep(i * 3);
      expect(await peer.send('unlock 0 0')).toBe('unlocked');
      expect(await within(p, 10_000), `round ${i}`).toBe('ECANCELED');
      expect(await peer.send('try w 0 0'), `round ${i}`).toBe('true');
    }
    expect(await peer.send('unlock 0 0')).toBe('unlocked');
  });

  it('the number reused for another file: ECANCELED, and that file is not locked', async () => {
    const { path, peer } = await held();
    const other = tempFile(64, 'other');
    const otherPeer = await nodePeer(other);
    const fd = openSync(path, 'r+');
    const p = outcome(lock(fd, 'w'));
    await sleep(20);
    closeSync(fd);
    const reused = openFd(other);
    expect(reused).toBe(fd);
    expect(await peer.send('unlock 0 0')).toBe('unlocked');
    expect(await within(p, 10_000)).toBe('ECANCELED');
    expect(await otherPeer.send('try w 0 0')).toBe('true');
    expect(await peer.send('try w 0 0')).toBe('true');
  });

  it.runIf(OFD_LOCKS)(
    'the number reused for a new open of the same file: ECANCELED, the new descriptor holds nothing',
    async () => {
      const { path, peer } = await held();
      const fd = openSync(path, 'r+');
      const p = outcome(lock(fd, 'w'));
      await sleep(20);
      closeSync(fd);
      const reopened = openFd(path);
      expect(reopened).toBe(fd);
      expect(await peer.send('unlock 0 0')).toBe('unlocked');
      expect(await within(p, 10_000)).toBe('ECANCELED');
      expect(await peer.send('try w 0 0')).toBe('true');
    },
  );
});

describe('the event loop', () => {
  it('10 pending lock() calls do not delay setTimeout or fs.readFile', async () => {
    const { path, peer } = await held();
    const fd = openFd(path);
    const pending = Array.from({ length: 10 }, (_, i) => lock(fd, 'r', i, 1));
    let settled = 0;
    for (const p of pending) void p.then(() => settled++);
    const t0 = performance.now();
    await sleep(10);
    const timerAt = performance.now() - t0;
    const text = await readFile(new URL(import.meta.url), 'utf8');
    for (let i = 0; i < 8; i++) await readFile(new URL(import.meta.url));
    const readsAt = performance.now() - t0;
    expect(text).toContain('10 pending lock() calls');
    expect(timerAt).toBeLessThan(1000);
    expect(readsAt).toBeLessThan(1000);
    expect(settled).toBe(0);
    expect(await peer.send('unlock 0 0')).toBe('unlocked');
    await expect(Promise.all(pending)).resolves.toEqual(Array(10).fill(true));
  });
});

describe('descriptors that cannot be locked', () => {
  it('a closed FileHandle is IpcError EBADF for every call', async () => {
    const path = tempFile();
    const fh = await open(path, 'r+');
    expect(trylock(fh, 'w')).toBe(true);
    await fh.close();
    const ebadf = { name: 'IpcError', code: 'EBADF', syscall: 'fcntl' };
    expect(() => trylock(fh, 'w')).toThrow(IpcError);
    expect(() => trylock(fh, 'w')).toThrow(expect.objectContaining(ebadf));
    expect(() => lockSync(fh, 'r')).toThrow(expect.objectContaining(ebadf));
    expect(() => unlock(fh)).toThrow(expect.objectContaining(ebadf));
    await expect(lock(fh, 'w')).rejects.toMatchObject(ebadf);
    // Closing the FileHandle released its lock.
    const peer = await nodePeer(path);
    expect(await peer.send('try w 0 0')).toBe('true');
  });

  it('a descriptor number that is not open, or not a regular file, is IpcError EBADF for the lock calls', async () => {
    const ebadf = { name: 'IpcError', code: 'EBADF', syscall: 'fcntl' };
    const notOpen = 2_000_000_000;
    expect(() => trylock(notOpen, 'w')).toThrow(expect.objectContaining(ebadf));
    expect(() => lockSync(notOpen, 'w', { timeout: 1 })).toThrow(expect.objectContaining(ebadf));
    expect(() => unlock(notOpen)).toThrow(expect.objectContaining(ebadf));
    await expect(lock(notOpen, 'r')).rejects.toMatchObject(ebadf);
    const devNull = openFd('/dev/null');
    const dir = openFd(tempFile().replace(/\/lock$/, ''), 'r');
    for (const fd of [devNull, dir]) {
      expect(() => trylock(fd, 'r')).toThrow(expect.objectContaining(ebadf));
      expect(() => lockSync(fd, 'r', { timeout: 1 })).toThrow(expect.objectContaining(ebadf));
      await expect(lock(fd, 'r')).rejects.toMatchObject(ebadf);
      // Nothing can be locked there, so there is nothing to unlock: a no-op, documented.
      expect(unlock(fd)).toBeUndefined();
    }
  });

  it('the EBADF of an open descriptor that cannot be locked says why, and the path where known', async () => {
    const path = tempFile();
    const dir = path.replace(/\/lock$/, '');
    const fifo = `${dir}/fifo`;
    execFileSync('mkfifo', [fifo]);
    const cases: [fd: number, mode: 'r' | 'w', why: string, path: string | undefined][] = [
      [openFd(dir, 'r'), 'r', 'is a directory, not a regular file', dir],
      [openFd('/dev/null', 'r'), 'r', 'is a character device, not a regular file', '/dev/null'],
      [openFd(fifo, 'r+'), 'w', 'is a pipe, not a regular file', fifo],
      [openFd(path, 'r'), 'w', "is not open for writing, which a 'w' lock needs", path],
      [openFd(path, 'a'), 'r', "is not open for reading, which an 'r' lock needs", path],
    ];
    // Removed since it was opened: the OS no longer gives a path.
    const removed = `${dir}/removed`;
    writeFileSync(removed, 'x');
    cases.push([
      openFd(removed, 'r'),
      'w',
      "is not open for writing, which a 'w' lock needs",
      undefined,
    ]);
    unlinkSync(removed);
    for (const [fd, mode, why, where] of cases) {
      const message =
        where === undefined
          ? `EBADF: descriptor ${fd} (path unknown) ${why}, fcntl`
          : `EBADF: descriptor ${fd} ${why}, fcntl '${where}'`;
      const expected = { name: 'IpcError', code: 'EBADF', errno: -9, syscall: 'fcntl', message };
      const check = (e: unknown) => {
        expect(e, message).toMatchObject(expected);
        expect((e as IpcError).path, message).toBe(where);
      };
      for (const call of [trylock, lockSync] as const) {
        try {
          call(fd, mode, 0, 10);
          expect.fail(`${call.name} locked ${message}`);
        } catch (e) {
          check(e);
        }
      }
      check(await lock(fd, mode).catch((e: unknown) => e));
    }
    // A FileHandle: the same message.
    const fh = await open(path, 'r');
    const error = await lock(fh, 'w').catch((e: unknown) => e);
    expect(error).toMatchObject({
      message: `EBADF: descriptor ${fh.fd} is not open for writing, which a 'w' lock needs, fcntl '${path}'`,
      path,
    });
    await fh.close();
  });

  it("a descriptor not open for writing can't take 'w', nor one not open for reading 'r' (EBADF)", () => {
    const path = tempFile();
    const readOnly = openFd(path, 'r');
    const writeOnly = openFd(path, 'a');
    expect(() => trylock(readOnly, 'w')).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(trylock(readOnly, 'r', 0, 50)).toBe(true);
    expect(() => trylock(writeOnly, 'r', 100)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(trylock(writeOnly, 'w', 100)).toBe(true);
  });
});
