import { readFile, stat } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { IpcError, open, SEM_VALUE_MAX, Semaphore, unlink } from '../src/index.js';
import { cleanup, semExists, semPath, uniqueName } from './helpers.js';

afterEach(cleanup);

describe('open', () => {
  it('creates with n > 0 (mode 0600) and opens an existing one with n absent or 0', async () => {
    const name = uniqueName();
    const creator = open(name, 2);
    expect((await stat(semPath(name))).mode & 0o777).toBe(0o600);
    const other = open(name);
    const third = open(name, 0);
    expect(other.tryDec()).toBe(true);
    expect(third.tryDec()).toBe(true);
    expect(creator.tryDec()).toBe(false);
    third.inc();
    expect(creator.tryDec()).toBe(true);
    for (const h of [creator, other, third]) h.close();
  });

  it('fails EEXIST when creating an existing name', () => {
    const name = uniqueName();
    const sem = open(name, 1);
    try {
      open(name, 1);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(IpcError);
      expect(error).toMatchObject({
        code: 'EEXIST',
        errno: -17,
        syscall: 'sem_open',
        name: 'IpcError',
        path: name,
      });
      expect((error as Error).message).toBe(`EEXIST: file already exists, sem_open '${name}'`);
    }
    sem.close();
  });

  it('fails ENOENT when opening a missing name', () => {
    const name = uniqueName();
    expect(() => open(name)).toThrow(
      expect.objectContaining({
        code: 'ENOENT',
        syscall: 'sem_open',
        name: 'IpcError',
        path: name,
      }),
    );
    expect(() => open(name, 0)).toThrowError(IpcError);
    expect(semExists(name)).toBe(false);
  });

  it('accepts names up to 251 bytes and rejects longer ones with ENAMETOOLONG', () => {
    const base = uniqueName('long');
    const longest = base + 'x'.repeat(251 - base.length);
    const sem = open(longest, 1);
    expect(semExists(longest)).toBe(true);
    sem.close();
    expect(() => open(`${longest}x`, 1)).toThrow(
      expect.objectContaining({ code: 'ENAMETOOLONG', syscall: 'sem_open' }),
    );
    // Bytes, not characters: 126 two-byte characters are 252 bytes.
    expect(() => open('é'.repeat(126), 1)).toThrow(
      expect.objectContaining({ code: 'ENAMETOOLONG' }),
    );
  });

  it('creates at SEM_VALUE_MAX', () => {
    const name = uniqueName();
    const sem = open(name, SEM_VALUE_MAX);
    expect(() => sem.inc()).toThrow(
      expect.objectContaining({ code: 'EOVERFLOW', syscall: 'sem_post' }),
    );
    expect(sem.tryDec()).toBe(true);
    sem.inc();
    sem.close();
  });
});

describe('handles', () => {
  it('come only from open(): the constructor refuses user code', () => {
    const Ctor = Semaphore as unknown as new (...args: unknown[]) => Semaphore;
    expect(() => new Ctor(Symbol('x'), 'x', false, {})).toThrow(
      expect.objectContaining({
        name: 'TypeError',
        code: 'ERR_ILLEGAL_CONSTRUCTOR',
        message: 'Illegal constructor: Semaphore handles are made by open()',
      }),
    );
    expect(() => new Ctor('x', 1)).toThrow(TypeError);
  });
});

describe('close and unlink', () => {
  it("the creator's close removes the name; other handles keep working", () => {
    const name = uniqueName();
    const creator = open(name, 1);
    const other = open(name);
    other.close();
    expect(semExists(name)).toBe(true);
    const again = open(name);
    creator.close();
    expect(semExists(name)).toBe(false);
    expect(() => open(name)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(again.tryDec()).toBe(true);
    again.inc();
    again.close();
  });

  it('close is idempotent, Symbol.dispose closes, closed reports it', () => {
    const name = uniqueName();
    {
      using sem = open(name, 1);
      expect(sem.closed).toBe(false);
      expect(sem.name).toBe(name);
    }
    expect(semExists(name)).toBe(false);
    const sem = open(name, 1);
    sem.close();
    sem.close();
    expect(sem.closed).toBe(true);
    expect(() => sem.inc()).toThrow(
      expect.objectContaining({
        code: 'ERR_IPC_CLOSED',
        message: 'attempt to use a closed semaphore',
      }),
    );
    const closed = expect.objectContaining({ code: 'ERR_IPC_CLOSED' });
    expect(() => sem.tryDec()).toThrow(closed);
    expect(() => sem.decSync()).toThrow(closed);
  });

  it('unlink removes a leaked name and fails ENOENT for a missing one', () => {
    const name = uniqueName();
    const sem = open(name, 1);
    unlink(name);
    expect(semExists(name)).toBe(false);
    expect(() => unlink(name)).toThrow(
      expect.objectContaining({ code: 'ENOENT', syscall: 'sem_unlink', path: name }),
    );
    expect(sem.tryDec()).toBe(true);
    sem.close();
    // The creator's close does not trip over the name being gone already.
    expect(sem.closed).toBe(true);
  });
});

describe('inc, tryDec, decSync', () => {
  it('counts', () => {
    const name = uniqueName();
    const sem = open(name, 1);
    expect(sem.tryDec()).toBe(true);
    expect(sem.tryDec()).toBe(false);
    sem.inc();
    sem.inc();
    expect(sem.decSync()).toBe(true);
    expect(sem.decSync(0)).toBe(true);
    expect(sem.decSync(0)).toBe(false);
    sem.close();
  });

  it('decSync times out with false after about the timeout', () => {
    const sem = open(uniqueName(), 1);
    sem.tryDec();
    const t0 = performance.now();
    expect(sem.decSync(0.1)).toBe(false);
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(80);
    expect(elapsed).toBeLessThan(2000);
    sem.close();
  });
});

describe('dec', () => {
  it('resolves true at once when the count is there, false for dec(0) when not', async () => {
    const sem = open(uniqueName(), 1);
    await expect(sem.dec()).resolves.toBe(true);
    await expect(sem.dec(0)).resolves.toBe(false);
    sem.close();
  });

  it('dec(0.2) on a zero semaphore resolves false after about 0.2 s', async () => {
    const sem = open(uniqueName(), 1);
    sem.tryDec();
    const t0 = performance.now();
    await expect(sem.dec(0.2)).resolves.toBe(false);
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(2000);
    sem.close();
  });

  it('waits until another handle increments: each inc() releases exactly one pending dec()', async () => {
    const name = uniqueName();
    const sem = open(name, 1);
    sem.tryDec();
    const other = open(name);
    // Like POSIX semaphores, pending waits are not served in call order: each wait has its
    // own thread (so each honours its own timeout), and the kernel picks which one wakes.
    const done: number[] = [];
    const pending = [1, 2, 3].map((i) => sem.dec().then((ok) => done.push(ok ? i : -i)));
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toEqual([]);
    for (let k = 1; k <= 3; k++) {
      other.inc();
      await new Promise((r) => setTimeout(r, 50));
      expect(done).toHaveLength(k);
    }
    await Promise.all(pending);
    expect([...done].sort()).toEqual([1, 2, 3]);
    expect(sem.tryDec()).toBe(false);
    sem.close();
    other.close();
  });

  it('10 pending dec() calls do not delay setTimeout or fs.readFile', async () => {
    const name = uniqueName();
    const creator = open(name, 1);
    creator.tryDec();
    const handles = Array.from({ length: 10 }, () => open(name));
    const pending = handles.map((h) => h.dec());
    let settled = 0;
    for (const p of pending) void p.then(() => settled++);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 10));
    const timerAt = performance.now() - t0;
    const text = await readFile(new URL(import.meta.url), 'utf8');
    for (let i = 0; i < 8; i++) await readFile(new URL(import.meta.url));
    const readsAt = performance.now() - t0;
    expect(text).toContain('10 pending dec() calls');
    expect(timerAt).toBeLessThan(1000);
    expect(readsAt).toBeLessThan(1000);
    expect(settled).toBe(0);
    for (let i = 0; i < 10; i++) creator.inc();
    await expect(Promise.all(pending)).resolves.toEqual(Array(10).fill(true));
    for (const h of [...handles, creator]) h.close();
  });

  it('an AbortSignal rejects a pending dec with its reason and does not eat a later count', async () => {
    const sem = open(uniqueName(), 1);
    sem.tryDec();
    const controller = new AbortController();
    const p = sem.dec(undefined, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    sem.inc();
    // Give a (wrongly) still running wait time to take the count.
    await new Promise((r) => setTimeout(r, 100));
    expect(sem.tryDec()).toBe(true);
    const custom = new AbortController();
    const q = sem.dec(5, { signal: custom.signal });
    const reason = new Error('stop');
    custom.abort(reason);
    await expect(q).rejects.toBe(reason);
    sem.close();
  });

  it('an already aborted signal rejects at once without taking the count', async () => {
    const sem = open(uniqueName(), 1);
    await expect(sem.dec(undefined, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(sem.tryDec()).toBe(true);
    sem.close();
  });

  it('aborting after it resolved changes nothing', async () => {
    const sem = open(uniqueName(), 1);
    const controller = new AbortController();
    await expect(sem.dec(1, { signal: controller.signal })).resolves.toBe(true);
    controller.abort();
    sem.tryDec();
    sem.inc();
    await expect(sem.dec(1, { signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(sem.tryDec()).toBe(true);
    sem.close();
  });

  it('close() rejects pending decs with ECANCELED and later calls with ERR_IPC_CLOSED', async () => {
    const sem = open(uniqueName(), 1);
    sem.tryDec();
    const a = sem.dec();
    const b = sem.dec(10);
    sem.close();
    await expect(a).rejects.toMatchObject({ code: 'ECANCELED', syscall: 'sem_wait' });
    await expect(b).rejects.toBeInstanceOf(IpcError);
    await expect(sem.dec()).rejects.toThrow(
      expect.objectContaining({
        code: 'ERR_IPC_CLOSED',
        message: 'attempt to use a closed semaphore',
      }),
    );
  });
});
