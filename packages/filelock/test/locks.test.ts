// Lock semantics between real processes: a Node peer (fixtures/locker.mjs) and Python's
// fcntl.lockf (fixtures/py_lock.py) hold locks while this process asks for them.
import { closeSync, openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { IpcError, lock, lockSync, OFD_LOCKS, trylock, unlock } from '../src/index.js';
import { cleanup, nodePeer, pythonPeer, tempFile } from './helpers.js';

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

/** Whether `p` is still pending after `ms`. */
async function pendingAfter(p: Promise<unknown>, ms: number): Promise<boolean> {
  const marker = Symbol('pending');
  const winner = await Promise.race([
    p.then(
      (v) => v,
      (e) => e,
    ),
    sleep(ms, marker),
  ]);
  return winner === marker;
}

describe('between processes', () => {
  it('shared locks coexist; an exclusive lock excludes and is excluded', async () => {
    const path = tempFile();
    const fd = openFd(path);
    const peer = await nodePeer(path);
    expect(await peer.send('lock r 0 0')).toBe('locked');
    expect(trylock(fd, 'r')).toBe(true);
    expect(trylock(fd, 'w')).toBe(false); // would convert ours, but the peer shares the range
    expect(await peer.send('try w 0 0')).toBe('false'); // we still hold our shared lock
    unlock(fd);
    expect(await peer.send('try w 0 0')).toBe('true'); // the peer converted its lock
    expect(trylock(fd, 'r')).toBe(false);
    expect(trylock(fd, 'w')).toBe(false);
    expect(await peer.send('unlock 0 0')).toBe('unlocked');
    expect(trylock(fd, 'w')).toBe(true);
    expect(await peer.send('try r 0 0')).toBe('false');
  });

  it('overlapping ranges conflict, disjoint ranges do not; nbytes 0 reaches past EOF', async () => {
    const path = tempFile(64);
    const fd = openFd(path);
    const peer = await nodePeer(path);
    expect(await peer.send('lock w 10 10')).toBe('locked'); // [10, 20)
    expect(trylock(fd, 'w', 0, 10)).toBe(true);
    expect(trylock(fd, 'w', 20, 5)).toBe(true);
    expect(trylock(fd, 'w', 19, 2)).toBe(false);
    expect(trylock(fd, 'w', 5, 6)).toBe(false);
    expect(trylock(fd, 'r', 15, 1)).toBe(false);
    expect(trylock(fd, 'w', 30)).toBe(true); // from 30 to EOF and beyond
    expect(trylock(fd, 'w')).toBe(false); // the whole file
    expect(await peer.send('try r 40 1')).toBe('false');
    expect(await peer.send('try r 1000000 1')).toBe('false'); // far past EOF: still ours
    expect(await peer.send('try r 25 5')).toBe('true'); // [25, 30) is nobody's
    unlock(fd);
    expect(await peer.send('lock w 1000 0')).toBe('locked'); // from 1000 (EOF is 64) on
    expect(trylock(fd, 'w', 999, 1)).toBe(true);
    expect(trylock(fd, 'w', 5000, 1)).toBe(false);
    expect(trylock(fd, 'w', 2 ** 40, 1)).toBe(false);
  });

  it('trylock is false while another process holds; lock() and lockSync() wait for its release', async () => {
    const path = tempFile();
    const fd = openFd(path);
    const peer = await nodePeer(path);
    expect(await peer.send('lock w 0 0')).toBe('locked');
    expect(trylock(fd, 'w')).toBe(false);
    expect(trylock(fd, 'r')).toBe(false);
    const p = lock(fd, 'w');
    expect(await pendingAfter(p, 200)).toBe(true);
    expect(await peer.send('unlock 0 0')).toBe('unlocked');
    await expect(p).resolves.toBe(true);
    expect(await peer.send('try r 0 0')).toBe('false');
    unlock(fd);
    // The other way round: the peer waits in lockSync until we release.
    expect(trylock(fd, 'w')).toBe(true);
    peer.write('lock w 0 0\n');
    await expect(peer.next(300)).rejects.toThrow(/nothing within 300 ms/);
    unlock(fd);
    expect(await peer.next()).toBe('locked');
    expect(lockSync(fd, 'r', { timeout: 0 })).toBe(false);
  });

  it('a timeout gives false: lockSync and lock, timeout 0 only tries', async () => {
    const path = tempFile();
    const fd = openFd(path);
    const peer = await nodePeer(path);
    expect(await peer.send('lock w 0 0')).toBe('locked');
    let t0 = performance.now();
    expect(lockSync(fd, 'w', { timeout: 0.2 })).toBe(false);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(195);
    t0 = performance.now();
    await expect(lock(fd, 'r', 0, 0, { timeout: 0.2 })).resolves.toBe(false);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(195);
    await expect(lock(fd, 'w', { timeout: 0 })).resolves.toBe(false);
    expect(lockSync(fd, 'w', 0, 1, { timeout: 0 })).toBe(false);
    // The range the peer does not hold is granted at once, whatever the timeout.
    expect(await peer.send('unlock 10 0')).toBe('unlocked');
    await expect(lock(fd, 'w', 10, { timeout: 0 })).resolves.toBe(true);
    expect(lockSync(fd, 'w', 20, 5, { timeout: 0 })).toBe(true);
    expect(await peer.send('try r 12 1')).toBe('false');
  });

  it('a holder killed with SIGKILL releases its locks', async () => {
    const path = tempFile();
    const fd = openFd(path);
    const peer = await nodePeer(path);
    expect(await peer.send('lock w 0 0')).toBe('locked');
    const p = lock(fd, 'w');
    expect(await pendingAfter(p, 100)).toBe(true);
    peer.kill('SIGKILL');
    expect(await peer.done).toMatchObject({ code: null, signal: 'SIGKILL' });
    await expect(p).resolves.toBe(true);
    const other = await nodePeer(path);
    expect(await other.send('try r 0 0')).toBe('false');
  });

  it('a held lock converts between modes, wholly or in part, as fcntl does', async () => {
    const path = tempFile();
    const fd = openFd(path);
    const peer = await nodePeer(path);
    expect(lockSync(fd, 'r')).toBe(true);
    expect(await peer.send('try r 0 0')).toBe('true');
    expect(await peer.send('unlock 0 0')).toBe('unlocked');
    expect(lockSync(fd, 'w')).toBe(true); // r -> w: nobody else holds it
    expect(await peer.send('try r 0 0')).toBe('false');
    await expect(lock(fd, 'r')).resolves.toBe(true); // w -> r
    expect(await peer.send('try r 0 0')).toBe('true');
    expect(await peer.send('try w 0 0')).toBe('false');
    expect(trylock(fd, 'w')).toBe(false); // r -> w refused: the peer shares it now
    expect(await peer.send('unlock 0 0')).toBe('unlocked');
    unlock(fd);
    expect(trylock(fd, 'w', 0, 10)).toBe(true);
    expect(trylock(fd, 'r', 0, 5)).toBe(true); // [0, 5) shared, [5, 10) still exclusive
    expect(await peer.send('try r 0 5')).toBe('true');
    expect(await peer.send('try r 5 5')).toBe('false');
  });

  it('unlocking part of a range splits it; unlocking what is not held does nothing', async () => {
    const path = tempFile();
    const fd = openFd(path);
    const peer = await nodePeer(path);
    expect(trylock(fd, 'w', 0, 10)).toBe(true);
    unlock(fd, 3, 4);
    expect(await peer.send('try w 3 4')).toBe('true');
    expect(await peer.send('try w 0 3')).toBe('false');
    expect(await peer.send('try w 7 3')).toBe('false');
    unlock(fd, 100, 10);
    unlock(fd, 3, 4); // the peer's range: not ours, nothing happens
    expect(await peer.send('try w 0 1')).toBe('false');
    expect(trylock(fd, 'w', 3, 4)).toBe(false);
  });

  it(
    OFD_LOCKS
      ? 'closing another descriptor of the file keeps the lock (open-file-description locks)'
      : 'closing another descriptor of the file drops the process’s locks (classic POSIX locks)',
    async () => {
      const path = tempFile();
      const fd = openFd(path);
      const peer = await nodePeer(path);
      expect(trylock(fd, 'w')).toBe(true);
      closeSync(openSync(path, 'r'));
      expect(await peer.send('try w 0 0')).toBe(OFD_LOCKS ? 'false' : 'true');
    },
  );

  it(
    OFD_LOCKS
      ? 'two descriptors of one process exclude each other (each open() is its own owner)'
      : 'two descriptors of one process share the process’s locks',
    () => {
      const path = tempFile();
      const a = openFd(path);
      const b = openFd(path);
      expect(trylock(a, 'w')).toBe(true);
      expect(trylock(b, 'w')).toBe(!OFD_LOCKS);
      expect(trylock(b, 'r', 0, 1)).toBe(!OFD_LOCKS);
    },
  );
});

describe("interop with Python's fcntl.lockf (classic POSIX locks)", () => {
  it('Python holds: we are refused, then granted when it unlocks', async () => {
    const path = tempFile();
    const fd = openFd(path);
    const py = await pythonPeer(path);
    expect(await py.send('lock w 0 0')).toBe('locked');
    expect(trylock(fd, 'w')).toBe(false);
    expect(trylock(fd, 'r', 50, 1)).toBe(false);
    const p = lock(fd, 'r', 0, 32);
    expect(await pendingAfter(p, 200)).toBe(true);
    expect(await py.send('unlock 0 0')).toBe('unlocked');
    await expect(p).resolves.toBe(true);
    expect(await py.send('try w 0 1')).toBe('false');
    expect(await py.send('try r 0 32')).toBe('true');
    expect(await py.send('try w 32 0')).toBe('true');
  });

  it('we hold: Python is refused, and its blocking lockf returns when we unlock', async () => {
    const path = tempFile();
    const fd = openFd(path);
    const py = await pythonPeer(path);
    expect(lockSync(fd, 'w', 0, 10)).toBe(true);
    expect(await py.send('try w 0 10')).toBe('false');
    expect(await py.send('try r 9 1')).toBe('false');
    expect(await py.send('try w 10 10')).toBe('true');
    py.write('lock w 0 10\n');
    await expect(py.next(300)).rejects.toThrow(/nothing within 300 ms/);
    unlock(fd, 0, 10);
    expect(await py.next()).toBe('locked');
    expect(trylock(fd, 'r', 5, 1)).toBe(false);
    expect(trylock(fd, 'r', 20, 1)).toBe(true);
  });

  it('shared locks of Python and Node coexist', async () => {
    const path = tempFile();
    const fd = openFd(path);
    const py = await pythonPeer(path);
    expect(await py.send('lock r 0 0')).toBe('locked');
    expect(trylock(fd, 'r')).toBe(true);
    expect(trylock(fd, 'w')).toBe(false);
    expect(await py.send('try w 0 0')).toBe('false');
  });
});

describe('deadlock', () => {
  it(
    OFD_LOCKS
      ? 'the kernel does not detect deadlocks of OFD locks: a timeout ends the wait'
      : 'a deadlock the kernel detects is IpcError EDEADLK',
    async () => {
      const path = tempFile();
      const fd = openFd(path);
      const peer = await nodePeer(path);
      expect(trylock(fd, 'w', 1, 1)).toBe(true);
      expect(await peer.send('lock w 0 1')).toBe('locked');
      peer.write('lock w 1 1\n'); // the peer now waits for us
      await sleep(100);
      if (OFD_LOCKS) {
        expect(lockSync(fd, 'w', 0, 1, { timeout: 0.1 })).toBe(false);
        await expect(lock(fd, 'w', 0, 1, { timeout: 0.1 })).resolves.toBe(false);
      } else {
        const error = (() => {
          try {
            lockSync(fd, 'w', 0, 1);
          } catch (e) {
            return e;
          }
        })();
        expect(error).toBeInstanceOf(IpcError);
        expect(error).toMatchObject({ code: 'EDEADLK', syscall: 'fcntl' });
        await expect(lock(fd, 'w', 0, 1)).rejects.toMatchObject({
          name: 'IpcError',
          code: 'EDEADLK',
          syscall: 'fcntl',
        });
      }
      unlock(fd, 1, 1);
      expect(await peer.next()).toBe('locked');
    },
  );
});
