import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { open } from '../src/index.js';
import { cleanup, fixtures, runFixture, runSync, semExists, uniqueName } from './helpers.js';

afterEach(cleanup);

/** Replays enter/leave lines in file order and returns the peak number inside at once. */
function maxInside(log: string): { peak: number; enters: number; leaves: number } {
  let inside = 0;
  let peak = 0;
  let enters = 0;
  let leaves = 0;
  for (const line of log.split('\n')) {
    if (line.startsWith('enter ')) {
      inside += 1;
      enters += 1;
      peak = Math.max(peak, inside);
    } else if (line.startsWith('leave ')) {
      inside -= 1;
      leaves += 1;
    }
  }
  return { peak, enters, leaves };
}

describe("LuaIPC's semtest", () => {
  for (const mode of ['async', 'sync']) {
    it(`10 worker processes, a semaphore of 3: never more than 3 inside (${mode})`, async () => {
      const name = uniqueName('semtest');
      const dir = mkdtempSync(join(tmpdir(), 'luaipc-semtest-'));
      const log = join(dir, 'log');
      const sem = open(name, 3);
      try {
        const rounds = 4;
        const results = await Promise.all(
          Array.from({ length: 10 }, () =>
            runFixture('semtest-worker.mjs', [name, log, String(rounds), mode]),
          ),
        );
        for (const r of results) {
          expect(r.stderr).toBe('');
          expect(r).toMatchObject({ code: 0, stdout: 'done\n' });
        }
        const { peak, enters, leaves } = maxInside(readFileSync(log, 'utf8'));
        expect(enters).toBe(10 * rounds);
        expect(leaves).toBe(10 * rounds);
        expect(peak).toBeLessThanOrEqual(3);
        expect(peak).toBeGreaterThan(1);
        // Every worker gave back what it took.
        expect([sem.tryDec(), sem.tryDec(), sem.tryDec(), sem.tryDec()]).toEqual([
          true,
          true,
          true,
          false,
        ]);
      } finally {
        sem.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('lifetime in child processes', () => {
  it('an aborted dec and a dec rejected by close() let the process exit normally', async () => {
    const name = uniqueName('abort');
    const r = await runFixture('abort-exit.mjs', [name], [], 10_000);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0, signal: null });
    expect(r.stdout).toBe('aborted: AbortError\nclosed: ECANCELED\n');
    expect(semExists(name)).toBe(false);
  });

  it('a pending dec keeps the process alive until another process increments', async () => {
    const name = uniqueName('pending');
    const sem = open(name, 1);
    sem.tryDec();
    const child = runFixture('pending-exit.mjs', [name], [], 10_000);
    await new Promise((r) => setTimeout(r, 500));
    sem.inc();
    const r = await child;
    expect(r).toMatchObject({ code: 0, stdout: 'waiting\ngot true\n', stderr: '' });
    sem.close();
  });

  for (const how of ['end', 'exit']) {
    it(`creators' names are removed when the process ends without close() (${how})`, async () => {
      const name = uniqueName(`exit-${how}`);
      try {
        // The fixture names its second semaphore `${name}-b`.
        const r = await runFixture('exit-unlink.mjs', [name, how]);
        expect(r.stderr).toBe('');
        expect(r).toMatchObject({ code: how === 'exit' ? 3 : 0, stdout: 'opened\n' });
        expect(semExists(name)).toBe(false);
        expect(semExists(`${name}-b`)).toBe(false);
      } finally {
        rmSync(`/dev/shm/sem.${name}-b`, { force: true });
      }
    });
  }

  it('using a handle after close throws ERR_IPC_CLOSED', async () => {
    const name = uniqueName('closed');
    const r = await runFixture('after-close.mjs', [name]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const closed = 'Error ERR_IPC_CLOSED: attempt to use a closed semaphore';
    expect(r.stdout).toBe(
      `inc: ${closed}\ntryDec: ${closed}\ndecSync: ${closed}\ndecSyncWait: ${closed}\n` +
        `dec: ${closed}\nclosed: true\n`,
    );
  });

  it('GC finalizes unclosed handles (creators unlink their names)', async () => {
    const prefix = uniqueName('gc');
    const count = 50;
    try {
      const r = await runFixture('gc.mjs', [prefix, String(count)], ['--expose-gc']);
      expect(r.stderr).toBe('');
      expect(r).toMatchObject({ code: 0, signal: null });
      expect(r.stdout).toBe(`before ${count} after 0\n`);
    } finally {
      for (let i = 0; i < count; i++) rmSync(`/dev/shm/sem.${prefix}-${i}`, { force: true });
    }
  });

  it('loads in worker_threads; terminating a worker with a pending dec is clean', async () => {
    const name = uniqueName('worker');
    const r = await runFixture('worker.mjs', [name]);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0, signal: null });
    expect(r.stdout).toBe(
      [
        'true EEXIST',
        'terminated 1',
        'terminated 1',
        'main tryDec true',
        'worker inc',
        'main after worker inc true',
        '',
      ].join('\n'),
    );
  });
});

describe('races', () => {
  it('aborts, closes and incs racing pending decs never lose or invent a count', async () => {
    const name = uniqueName('stress');
    const r = await runFixture('stress.mjs', [name, '1000'], [], 60_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { posted, taken, left, aborted, cancelled } = JSON.parse(r.stdout) as {
      posted: number;
      taken: number;
      left: number;
      aborted: number;
      cancelled: number;
    };
    expect(taken + left).toBe(posted);
    expect(posted).toBeGreaterThan(0);
    expect(taken).toBeGreaterThan(0);
    expect(aborted).toBeGreaterThan(0);
    expect(cancelled).toBeGreaterThan(0);
  });

  it('workers terminated at random moments during dec() leave the process healthy', async () => {
    const name = uniqueName('churn');
    const r = await runFixture('worker-churn.mjs', [name, '24'], [], 60_000);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0, signal: null });
    expect(r.stdout).toBe('terminated 24, count kept true\n');
  });
});

describe('interop with a non-Node process (glibc sem_open via Python ctypes)', () => {
  it('Python posts, Node dec() resolves; Node incs, Python sem_timedwait acquires', async () => {
    const name = uniqueName('py');
    const sem = open(name, 1);
    sem.tryDec();
    const pending = sem.dec(10);
    const posted = runSync('python3', [join(fixtures, 'py_sem.py'), 'post', name]);
    expect(posted.stderr).toBe('');
    expect(posted.stdout).toBe('posted\n');
    await expect(pending).resolves.toBe(true);

    const timedOut = runSync('python3', [join(fixtures, 'py_sem.py'), 'wait', name, '0.1']);
    expect(timedOut.stdout).toMatch(/^timeout/);
    sem.inc();
    const waited = runSync('python3', [join(fixtures, 'py_sem.py'), 'wait', name, '5']);
    expect(waited.stdout).toBe('acquired\n');
    expect(sem.tryDec()).toBe(false);
    sem.close();
  });
});
