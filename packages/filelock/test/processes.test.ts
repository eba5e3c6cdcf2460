// Whole scenarios in child processes: many lockers at once, worker threads, LuaIPC's shmtest,
// a worker ended while it waits, and what an idle wait costs.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { OFD_LOCKS } from '../src/index.js';
import {
  cleanup,
  fixtures,
  nodePeer,
  runFixture,
  startChild,
  tempFile,
  uniqueName,
} from './helpers.js';

afterEach(cleanup);

describe('mutual exclusion', () => {
  it('a counter incremented by 8 processes x 2,000 under lock/unlock ends exact', async () => {
    const lockPath = tempFile(0, 'lock');
    const counterPath = tempFile(0, 'counter');
    writeFileSync(counterPath, '000000000000');
    const runs = ['sync', 'async', 'sync', 'async', 'sync', 'async', 'sync', 'async'].map((how) =>
      runFixture('counter.mjs', [lockPath, counterPath, '2000', how], [], 120_000),
    );
    for (const r of await Promise.all(runs)) {
      expect(r.stderr).toBe('');
      expect(r).toMatchObject({ code: 0, signal: null, stdout: 'done\n' });
    }
    expect(Number(readFileSync(counterPath, 'latin1'))).toBe(16_000);
  });

  it(
    OFD_LOCKS
      ? 'worker threads of one process exclude each other (each through its own descriptor)'
      : 'worker threads of one process share its classic locks (no exclusion between them)',
    async () => {
      const path = tempFile();
      const probe = await runFixture('workers.mjs', [path, 'probe']);
      expect(probe.stderr).toBe('');
      expect(probe).toMatchObject({
        code: 0,
        signal: null,
        stdout: `main trylock true\nworker trylock ${!OFD_LOCKS}\n`,
      });
      if (!OFD_LOCKS) return;
      const r = await runFixture('workers.mjs', [path, 'count', '500'], [], 60_000);
      expect(r.stderr).toBe('');
      expect(r).toMatchObject({ code: 0, signal: null, stdout: 'entries 2000 max inside 1\n' });
    },
  );
});

describe("LuaIPC's shmtest", () => {
  it('a reader and a writer process share memory guarded by a file lock; no torn reads', async () => {
    const lockPath = tempFile(0, 'shm.lck');
    const name = uniqueName('shmtest');
    // Killed 30 s after the writer's allotted minute if it has not ended by then.
    const reader = startChild(process.execPath, [`${fixtures}shm-reader.mjs`, lockPath, name], {
      timeoutMs: 90_000,
    });
    await reader.line('ready').catch(() => {}); // an early end shows in the checks below
    const writer = await runFixture('shm-writer.mjs', [lockPath, name], [], 60_000);
    const { code, signal, stdout: readerOut, stderr: readerErr } = await reader.done;
    expect(writer.stderr).toBe('');
    expect(writer).toMatchObject({
      code: 0,
      signal: null,
      stdout: '200\nWriting ...\nWriting ...\nWriting ...\nDone!\n',
    });
    expect(readerErr).toBe('');
    expect([code, signal]).toEqual([0, null]);
    const lines = readerOut.trim().split('\n');
    expect(lines[0]).toBe('ready');
    expect(lines.filter((l) => l.startsWith('Read: '))).toEqual([
      'Read: hello world no. 1',
      'Read: hello world no. 2',
      'Read: hello world no. 3',
    ]);
    expect(lines.at(-1)).toBe('Done!');
    // The writer holds its lock for 0.3 s per generation while the reader polls every 0.1 s:
    // the reader's trylock was refused, and its lock() then waited until the writer let go.
    const refused = lines.indexOf('trylock false');
    expect(refused).toBeGreaterThan(0);
    expect(lines[refused + 1]).toBe('lock true');
    for (const l of lines) {
      expect(l).toMatch(
        /^(ready|trylock (true|false)|lock true|Read: hello world no\. [123]|Done!)$/,
      );
    }
  });
});

describe('worker teardown with a thread of ours inside the addon', () => {
  // The main thread never loads filelock, so Node unloads the addon when the last worker ends.
  for (const how of ['terminate', 'sync', 'exit', 'throw', 'aborted', 'timed']) {
    it(`a worker that ends by ${how} while it waits leaves the process alive`, async () => {
      const path = tempFile();
      const r = await runFixture('worker-teardown.mjs', [path, how, '6'], [], 60_000);
      expect(r.stderr).toBe('');
      expect(r).toMatchObject({ code: 0, signal: null, stdout: 'alive\n' });
    });
  }
});

describe('a worker blocked in lockSync()', () => {
  it('terminate() ends it quickly without taking the lock; the process exits 0', async () => {
    const path = tempFile();
    const holder = await nodePeer(path);
    expect(await holder.send('lock w 0 0')).toBe('locked');
    const c = startChild(process.execPath, [`${fixtures}sync-worker.mjs`, path, 'terminate'], {
      timeoutMs: 20_000,
    });
    const line = await c.next();
    expect(await holder.send('unlock 0 0')).toBe('unlocked');
    await new Promise((r) => setTimeout(r, 200)); // a wait still running would take it now
    // Another process can take it while the child lives: with classic per-process locks (the
    // portable build) this is the check that sees a lock taken on the way out; the child's own
    // trylock below sees it with OFD locks.
    expect(await holder.send('try w 0 0')).toBe('true');
    expect(await holder.send('unlock 0 0')).toBe('unlocked');
    c.write('check\n');
    const free = await c.next();
    expect(await c.done).toMatchObject({ code: 0, signal: null, stderr: '' });
    const ms = Number(/^terminated 1 in (\d+) ms$/.exec(line ?? '')?.[1]);
    // The README promises 100 ms; the bound leaves room for a loaded machine, while an untimed wait
    // that never ended would hit the 20 s kill.
    expect(ms).toBeLessThan(1000);
    expect(free).toBe('free true');
  });

  for (const how of ['exit', 'unref']) {
    it(`the process ends promptly on ${how === 'exit' ? 'process.exit() in the main thread' : 'a normal end with the worker unref()ed'}`, async () => {
      const path = tempFile();
      const holder = await nodePeer(path);
      expect(await holder.send('lock w 0 0')).toBe('locked');
      const t0 = performance.now();
      const r = await runFixture('sync-worker.mjs', [path, how], [], 20_000);
      expect(r.timedOut).toBe(false);
      expect(r).toMatchObject({
        code: 0,
        signal: null,
        stderr: '',
        stdout: how === 'exit' ? 'exiting\n' : 'ending\n',
      });
      expect(performance.now() - t0).toBeLessThan(10_000);
    });
  }
});

describe('an idle pending lock()', () => {
  it('costs no CPU: its thread and the timer wake about once a second', async () => {
    const path = tempFile();
    const r = await runFixture('idle-lock.mjs', [path, '3'], [], 30_000);
    expect(r).toMatchObject({ code: 0, signal: null, stderr: '' });
    const m = /^wait threads 1 wakeups (\d+); timer threads 1 wakeups (\d+)\nresolved true\n$/.exec(
      r.stdout,
    );
    expect(m, r.stdout).not.toBeNull();
    // 3 s at one wake-up a second; a poll every 50 ms would be ~60.
    expect(Number(m?.[1])).toBeLessThanOrEqual(5);
    expect(Number(m?.[2])).toBeLessThanOrEqual(5);
  });
});

describe('a wait whose descriptor number is closed', () => {
  it('a pending lock() rejects with ECANCELED and no longer keeps the process alive', async () => {
    const path = tempFile();
    const holder = await nodePeer(path);
    expect(await holder.send('lock w 0 0')).toBe('locked');
    const r = await runFixture('closed-under-wait.mjs', [path, 'async'], [], 20_000);
    expect(r.timedOut).toBe(false);
    expect(r).toMatchObject({ code: 0, signal: null, stderr: '', stdout: 'error ECANCELED\n' });
  });

  it("a worker's lockSync() throws ECANCELED while the holder still holds", async () => {
    const path = tempFile();
    const holder = await nodePeer(path);
    expect(await holder.send('lock w 0 0')).toBe('locked');
    const c = startChild(process.execPath, [
      `${fixtures}closed-under-wait.mjs`,
      path,
      'sync-worker',
    ]);
    expect(await c.next(), c.stderr).toBe('error ECANCELED');
    expect(await holder.send('unlock 0 0')).toBe('unlocked');
    await new Promise((r) => setTimeout(r, 100));
    expect(await holder.send('try w 0 0')).toBe('true'); // the child holds nothing
    c.write('done\n');
    c.end();
    expect(await c.done).toMatchObject({ code: 0, signal: null, stderr: '' });
  });

  it('an untimed lockSync() on the main thread throws ECANCELED once granted, holding nothing', async () => {
    const path = tempFile();
    const holder = await nodePeer(path);
    expect(await holder.send('lock w 0 0')).toBe('locked');
    const c = startChild(process.execPath, [`${fixtures}closed-under-wait.mjs`, path, 'sync-main']);
    expect(await c.next(), c.stderr).toBe('blocking');
    await new Promise((r) => setTimeout(r, 500)); // the child's worker closed the descriptor
    expect(await holder.send('unlock 0 0')).toBe('unlocked');
    expect(await c.next(), c.stderr).toBe('error ECANCELED');
    expect(await holder.send('try w 0 0')).toBe('true'); // the child holds nothing
    c.write('done\n');
    c.end();
    expect(await c.done).toMatchObject({ code: 0, signal: null, stderr: '' });
  });
});
