// The crash, hang and wrong-behaviour cases of the hardening work, each in a real child process
// where it could kill or hang the process, asserting how the process ended.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runChild, startChild } from '@luaipc/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { open } from '../src/index.js';
import { cleanup, fixtures, runFixture, semExists, uniqueName } from './helpers.js';

afterEach(cleanup);

describe('worker teardown with a thread of ours inside the addon', () => {
  // The main thread never loads sem, so Node unloads the addon when the worker ends.
  for (const how of ['terminate', 'exit', 'throw', 'aborted', 'timed-close']) {
    it(`a worker that ends by ${how} leaves the process alive`, async () => {
      const name = uniqueName(`wt${how.slice(0, 3)}`);
      const r = await runFixture('worker-teardown.mjs', [name, how, '8'], [], 60_000);
      expect(r.stderr).toBe('');
      expect(r).toMatchObject({ code: 0, signal: null, stdout: 'alive\n' });
      for (let i = 0; i < 8; i++) expect(semExists(`${name}-${i}`)).toBe(false);
    });
  }
});

describe('a worker blocked in decSync()', () => {
  it('terminate() ends it quickly without taking a count', async () => {
    const name = uniqueName('syncterm');
    const r = await runFixture('sync-worker.mjs', [name, 'terminate'], [], 20_000);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0, signal: null });
    const [line, kept] = r.stdout.trim().split('\n');
    const ms = Number(/terminated 1 in (\d+) ms/.exec(line ?? '')?.[1]);
    // The README promises 100 ms; the bound leaves room for a loaded machine, an untimed wait
    // that never ends would hit the 20 s kill.
    expect(ms).toBeLessThan(1000);
    expect(kept).toBe('count kept true');
  });

  for (const how of ['exit', 'unref']) {
    it(`the process ends promptly on ${how === 'exit' ? 'process.exit() in the main thread' : 'a normal end with the worker unref()ed'}`, async () => {
      const name = uniqueName(`sync${how}`);
      const t0 = performance.now();
      const r = await runFixture('sync-worker.mjs', [name, how], [], 20_000);
      expect(r.timedOut).toBe(false);
      expect(r).toMatchObject({ code: 0, signal: null, stderr: '' });
      expect(performance.now() - t0).toBeLessThan(10_000);
      expect(semExists(name)).toBe(false);
    });
  }
});

describe('threads', () => {
  it('a failed thread start rejects with IpcError EAGAIN; the waits already started work', async () => {
    // RLIMIT_NPROC binds only non-root users: run the child as nobody with a 40-thread limit.
    const name = uniqueName('nproc');
    try {
      const r = await runChild(
        'setpriv',
        [
          '--reuid=65534',
          '--regid=65534',
          '--clear-groups',
          'prlimit',
          '--nproc=40',
          process.execPath,
          join(fixtures, 'thread-limit.mjs'),
          name,
          '2000',
        ],
        { timeoutMs: 60_000 },
      );
      expect(r.stderr).toBe('');
      expect(r).toMatchObject({ code: 0, signal: null });
      expect(r.stdout).toMatch(
        /^failed after \d+: IpcError EAGAIN pthread_create true\nwoken 1\n$/,
      );
    } finally {
      rmSync(`/dev/shm/sem.${name}`, { force: true });
    }
  });

  it('decSync() on the main thread sleeps in one piece (only a worker needs slices)', async () => {
    const { readFileSync } = await import('node:fs');
    const child = startChild(process.execPath, [
      join(fixtures, 'sync-idle.mjs'),
      uniqueName('idle'),
      '3',
    ]);
    expect(await child.next()).toBe('waiting');
    await sleep(300); // past the spin, asleep in the kernel
    // The main thread's task id is the process id.
    const switches = () =>
      Number(
        /^voluntary_ctxt_switches:\s*(\d+)$/m.exec(
          readFileSync(`/proc/${child.pid}/task/${child.pid}/status`, 'utf8'),
        )?.[1],
      );
    const before = switches();
    await sleep(2000);
    const woke = switches() - before;
    expect(await child.done).toMatchObject({
      code: 0,
      signal: null,
      stdout: 'waiting\ngot false\n',
    });
    // In 50 ms slices it would be about 40.
    expect(woke).toBeLessThanOrEqual(4);
  });

  it('an idle pending dec() wakes at most once a second and is pinned to no CPU', async () => {
    const name = uniqueName('idle');
    const r = await runFixture('idle-wait.mjs', [name, '3'], [], 30_000);
    expect(r).toMatchObject({ code: 0, signal: null, stderr: '' });
    const m = /^threads 1 wakeups (\d+) pinned 0\nresolved true\n$/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    // One wake-up per 1 s slice, 3 on a quiet machine. In the portable build the alarm that ends
    // each slice takes a lock the timer thread may hold: on a loaded machine that can add a
    // switch. 50 ms slices would give about 60, a spinning wait thousands.
    expect(Number(m?.[1])).toBeLessThanOrEqual(6);
  });
});

describe('each pending wait honours its own timeout and abort', () => {
  it('dec(0.1) behind an untimed dec() on the same handle times out on its own', async () => {
    const sem = open(uniqueName(), 1);
    sem.tryDec();
    const untimed = sem.dec();
    const t0 = performance.now();
    await expect(sem.dec(0.1)).resolves.toBe(false);
    expect(performance.now() - t0).toBeLessThan(1500);
    const ac = new AbortController();
    const aborted = sem.dec({ signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    sem.inc();
    await expect(untimed).resolves.toBe(true);
    expect(sem.tryDec()).toBe(false);
    sem.close();
  });

  it('an aborted wait gives the count back at once: a later inc() is there for tryDec()', async () => {
    const sem = open(uniqueName(), 1);
    sem.tryDec();
    for (let i = 0; i < 20; i++) {
      const ac = new AbortController();
      const p = sem.dec({ signal: ac.signal });
      await sleep(5);
      ac.abort();
      await expect(p).rejects.toMatchObject({ name: 'AbortError' });
      // Give the interrupted thread a moment to leave its wait; it must not take this count.
      await sleep(20);
      sem.inc();
      await sleep(20);
      expect(sem.tryDec()).toBe(true);
    }
    sem.close();
  });

  it('{ timeout, signal } works as well as (timeout, { signal })', async () => {
    const sem = open(uniqueName(), 1);
    sem.tryDec();
    await expect(sem.dec({ timeout: 0.05 })).resolves.toBe(false);
    await expect(sem.dec(0.05, {})).resolves.toBe(false);
    const ac = new AbortController();
    const p = sem.dec({ timeout: 10, signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    sem.inc();
    await expect(sem.dec({ timeout: 1 })).resolves.toBe(true);
    sem.close();
  });

  it('many waits share one AbortSignal without a MaxListenersExceededWarning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const sem = open(uniqueName(), 1);
      sem.tryDec();
      const ac = new AbortController();
      const waits = Array.from({ length: 25 }, () => sem.dec({ signal: ac.signal }));
      await sleep(20);
      ac.abort();
      const results = await Promise.allSettled(waits);
      expect(results.every((r) => r.status === 'rejected')).toBe(true);
      await sleep(10);
      expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
      sem.close();
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('a signal arriving mid-wait', () => {
  it('decSync keeps waiting through a signal with a listener, which runs afterwards', async () => {
    const name = uniqueName('sig');
    const sem = open(name, 1);
    sem.tryDec();
    // The signal is sent half a second after the wait began, however slowly the child started
    // (a signal sent before its listener exists would kill it).
    const script = `
      import { spawn } from 'node:child_process';
      import { open } from ${JSON.stringify(new URL('../dist/index.mjs', import.meta.url).href)};
      process.on('SIGUSR2', () => console.log('listener ran'));
      const sem = open(${JSON.stringify(name)});
      console.log('waiting');
      spawn('sh', ['-c', 'sleep 0.5; kill -USR2 ' + process.pid]);
      const t0 = performance.now();
      console.log('decSync ' + sem.decSync(3) + ' after ' + (performance.now() - t0 > 2500));
      // Node's signal watchers do not keep the loop alive: give the queued signal a turn.
      setTimeout(() => {}, 200);
    `;
    const r = await runChild(process.execPath, ['--input-type=module', '-e', script], {
      timeoutMs: 20_000,
    });
    expect(r).toMatchObject({ code: 0, signal: null, stderr: '' });
    expect(r.stdout).toBe('waiting\ndecSync false after true\nlistener ran\n');
    sem.close();
  });

  it('without a listener, SIGINT ends a process blocked in decSync at once', async () => {
    const name = uniqueName('sigint');
    const sem = open(name, 1);
    sem.tryDec();
    const script = `
      import { open } from ${JSON.stringify(new URL('../dist/index.mjs', import.meta.url).href)};
      const sem = open(${JSON.stringify(name)});
      sem.decSync();
    `;
    const t0 = performance.now();
    const child = runChild(process.execPath, ['--input-type=module', '-e', script], {
      timeoutMs: 20_000,
    });
    await sleep(500);
    spawnSync('pkill', ['-INT', '-f', name]);
    const r = await child;
    expect(r).toMatchObject({ code: null, signal: 'SIGINT' });
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(sem.tryDec()).toBe(false);
    sem.close();
  });
});

describe('the creator owns only the object it created', () => {
  for (const how of ['gc', 'close', 'exit', 'throw']) {
    it(`a newer semaphore under the same name survives the old creator's ${how}`, async () => {
      const name = uniqueName(`newer${how}`);
      const r = await runFixture('newer-object.mjs', [name, how], ['--expose-gc'], 20_000);
      expect(r.signal).toBeNull();
      expect(r.code).toBe(how === 'throw' ? 1 : 0);
      expect(r.stdout.startsWith('created\n')).toBe(true);
      if (how === 'gc' || how === 'close') expect(r.stdout).toBe('created\nnewer kept true\n');
      expect(semExists(name)).toBe(true);
    });
  }
});

// glibc keeps a named semaphore in /dev/shm/sem.<name>, mapped into each process that opens it:
// another process can shrink the file (issue 15, item 5: SIGBUS in open, tryDec, inc and a
// pending dec) or overwrite its bytes (item 6: glibc aborted in inc). Every call must end in
// IpcError instead: ENXIO for the lost page, EINVAL for bytes that cannot be a semaphore.
describe.runIf(process.platform === 'linux')('another process damages the semaphore file', () => {
  const cases = [
    ['truncate', 'shrinks it to 0 bytes', 'ENXIO'],
    ['ff', 'overwrites it with 0xff', 'EINVAL'],
    ['value', 'writes a count above SEM_VALUE_MAX', 'EINVAL'],
    ['flag', 'writes a futex flag glibc never writes', 'EINVAL'],
  ] as const;
  // The portable build waits as on macOS, with an untimed sem_wait that the kernel restarts
  // after a signal (glibc then takes an overwritten count, or aborts on a truncated file): on
  // Linux that build exists only to run macOS's code, where no file backs a semaphore.
  const blocked = process.env.LUAIPC_ADDON_DIR !== 'build-portable';
  for (const [how, what, code] of cases) {
    it(`${what}: IpcError ${code} from every call, pending waits included, and exit 0`, async () => {
      const name = uniqueName(`dmg${how}`);
      const r = await runFixture(
        'damaged.mjs',
        [name, how, ...(blocked ? ['blocked'] : [])],
        [],
        60_000,
      );
      expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({
        code: 0,
        signal: null,
        stderr: '',
      });
      const out = JSON.parse(r.stdout);
      const description =
        code === 'ENXIO' ? 'mapped object was truncated' : 'not a valid semaphore';
      const thrown = (syscall: string) =>
        `IpcError ${code} ${syscall} ${code}: ${description}, ${syscall} '${name}'`;
      expect(out).toEqual({
        ...(blocked
          ? { decSyncBlocked: thrown('sem_wait'), decSyncForever: thrown('sem_wait') }
          : {}),
        pending: `IpcError ${code} sem_wait`,
        pendingTimed: `IpcError ${code} sem_wait`,
        inc: thrown('sem_post'),
        tryDec: thrown('sem_trywait'),
        decSync0: thrown('sem_trywait'),
        decSync: thrown('sem_wait'),
        dec: `IpcError ${code} sem_trywait`,
        openHere: thrown('sem_open'),
        openFresh: `IpcError ${code} sem_open`,
        closed: true,
      });
    });
  }
});
