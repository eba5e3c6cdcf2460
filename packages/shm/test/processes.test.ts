import { afterEach, describe, expect, it } from 'vitest';
import { create } from '../src/index.js';
import { cleanup, exists, fixture, runChild, runNode, startChild, uniqueName } from './helpers.js';

afterEach(cleanup);

// @luaipc/sem names used by these tests go through uniqueName() too, so afterEach removes
// /dev/shm/sem.<name> whatever happens.
async function openSem(name: string, n: number) {
  const { open } = await import('@luaipc/sem');
  return open(name, n);
}

describe("LuaIPC's shmtest", () => {
  it('a writer and a reader process exchange three generations in order', async () => {
    const name = uniqueName('gen');
    const empty = `${name}-empty`;
    const full = `${name}-full`;
    const writer = startChild(process.execPath, [fixture('shmtest.mjs'), 'writer', name]);
    try {
      await writer.line('ready');
      const reader = await runNode(fixture('shmtest.mjs'), ['reader', name]);
      const w = await writer.done;
      expect(reader.stderr).toBe('');
      expect(reader.code).toBe(0);
      expect(w.stderr).toBe('');
      expect(w.code).toBe(0);
      expect(w.stdout).toContain('writer done');

      const expected = [1, 2, 3].map((k) => ({
        gen: k,
        factor: 1.5 * k,
        lines: Array.from(
          { length: 12 - 3 * k },
          (_, i) => `gen ${k} line ${i} ${'x'.repeat(40 - 10 * k)}`,
        ),
      }));
      expect(JSON.parse(reader.stdout)).toEqual(expected);
      // The writer created and closed: the names are gone.
      expect(exists(name)).toBe(false);
      expect(exists(`sem.${empty}`)).toBe(false);
      expect(exists(`sem.${full}`)).toBe(false);
    } finally {
      writer.kill();
    }
  });
});

describe('counter', () => {
  for (const via of ['filelike', 'buffer'] as const) {
    it(`8 processes x 2,000 increments under a semaphore end at exactly 16,000 (${via})`, async () => {
      const name = uniqueName('ctr');
      const lockName = uniqueName('lock');
      const shm = create(name, 64);
      const lock = await openSem(lockName, 1);
      try {
        if (via === 'filelike') shm.write(0);
        const children = Array.from({ length: 8 }, () =>
          runChild(process.execPath, [fixture('counter.mjs'), name, lockName, '2000', via]),
        );
        const results = await Promise.all(children);
        for (const r of results) {
          expect(r.stderr).toBe('');
          expect(r.code).toBe(0);
          expect(r.stdout.trim()).toBe('done');
        }
        if (via === 'filelike') {
          shm.seek('set');
          expect(shm.read('n')).toBe(16000);
          expect(shm.buffer.toString('latin1', 0, 6)).toBe('16000\0');
        } else {
          expect(shm.buffer.readUInt32LE(0)).toBe(16000);
        }
      } finally {
        shm.close();
        lock.close();
      }
    });
  }
});
