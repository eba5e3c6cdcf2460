import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, fixture, parseOk, runNode, shmPath, uniqueName } from './helpers.js';

afterEach(cleanup);

// Issue 6, item 4: another process shrinks a segment we have mapped. Before, the next touch of a
// lost page killed the process with SIGBUS; now the fault handler of luaipc/mapping_os.h maps
// zero pages there and the handle reports the truncation. Each scenario in a child process.

const SIZE = 256 * 1024;
const lost = (name: string, syscall = 'read') => `IpcError ENXIO ${syscall} ${name}`;

describe('a segment shrunk by another process', () => {
  it("past a handle's logical end (truncate(n)) it goes unnoticed: a line read stops at the end", async () => {
    const name = uniqueName('logical');
    const out = parseOk(await runNode(fixture('logical-end.mjs'), [name, shmPath(name)]));
    expect(out).toEqual({ line: 'abc\0\0\0\0\0\0\0', truncated: false });
  });

  for (const [by, newSize] of [
    ['python', 5000],
    ['node', 0],
  ] as const) {
    it(`by ${by} to ${newSize} bytes: IpcError ENXIO from every FileLike access, zeros from buffer`, async () => {
      const name = uniqueName('shrink');
      const out = parseOk(await runNode(fixture('truncate.mjs'), [name, by, String(newSize)]));
      expect(out.before).toEqual({ truncated: false, first: 'line 0' });
      // Until a lost page is touched nothing can tell (no system call per access).
      expect(out.truncatedBeforeTouch).toBe(false);
      expect(out.truncatedAfterFirst).toBe(false);
      // Bytes that still exist read as before (none do at size 0).
      expect(out.readKept).toBe(newSize > 0 ? 'ok 6' : lost(name));
      expect(out.zeros).toEqual([0, 0, 0]);
      expect(out.truncated).toBe(true);
      for (const key of ['read', 'readN', 'readLine', 'readBigLine', 'readNumber', 'lines']) {
        expect([key, out[key]]).toEqual([key, lost(name)]);
      }
      expect(out.write).toBe(lost(name, 'write'));
      // Methods that do not touch the memory go on working.
      expect(out.seek).toBe('ok 10');
      expect(out.size).toBe(`ok ${SIZE}`);
      // Another handle in this process has its own mapping: it finds out on its own first touch.
      expect(out.otherRead).toBe(lost(name));
      expect(out.otherTruncated).toBe(true);
      expect(out.otherZero).toBe(0);
      // A new mapping maps what is left.
      expect(out.late).toBe(newSize > 0 ? `ok ${newSize}` : `IpcError EINVAL mmap ${name}`);
      expect(out.gzip).toBe(SIZE);
      expect(out.writeFile).toBe(SIZE);
      expect(out.writeThrough).toBe(7);
      // A worker's own mapping faults on the worker's thread.
      expect(out.worker).toEqual({ zero: 0, read: 'ENXIO', truncated: true });
    });
  }

  it('touched first by zlib in the threadpool: the handler runs on that thread', async () => {
    const name = uniqueName('pool');
    const out = parseOk(await runNode(fixture('truncate.mjs'), [name, 'python', '5000', 'pool']));
    expect(out.first).toBe(SIZE);
    expect(out.truncatedAfterFirst).toBe(true);
    // The mapping is marked truncated: every FileLike read now throws, kept bytes included.
    expect(out.readKept).toBe(lost(name));
  });

  it('touched first by the kernel (write(2) from the Buffer): EFAULT, no signal', async () => {
    const name = uniqueName('kern');
    const out = parseOk(await runNode(fixture('truncate.mjs'), [name, 'python', '5000', 'kernel']));
    expect(out.first).toBe('EFAULT');
    expect(out.truncatedAfterFirst).toBe(false);
    expect(out.readKept).toBe('ok 6');
  });
});

describe('the SIGBUS handler passes on what is not ours', () => {
  // A test-only addon that raises a genuine SIGBUS on a mapping of its own and can install a
  // handler of its own.
  let dir: string;
  let faultAddon: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'luaipc-fault-'));
    faultAddon = join(dir, 'fault.node');
    const headers = join(
      dirname(createRequire(import.meta.url).resolve('node-api-headers/package.json')),
      'include',
    );
    execFileSync('cc', [
      '-shared',
      '-fPIC',
      '-Wall',
      '-Werror',
      `-I${headers}`,
      fixture('fault-addon.c'),
      '-o',
      faultAddon,
    ]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (name: string, steps: string[]) =>
    runNode(fixture('sigbus-chain.mjs'), [name, faultAddon, ...steps]);

  it('kill -BUS still ends the process by SIGBUS', async () => {
    const r = await run(uniqueName('kill'), ['shm', 'kill']);
    expect(r.stdout).not.toContain('survived');
    expect({ code: r.code, signal: r.signal }).toEqual({ code: null, signal: 'SIGBUS' });
  });

  it('a genuine fault on a mapping that is not ours still ends the process by SIGBUS', async () => {
    const r = await run(uniqueName('fault'), ['shm', 'fault']);
    expect(r.stdout).not.toContain('survived');
    expect({ code: r.code, signal: r.signal }).toEqual({ code: null, signal: 'SIGBUS' });
  });

  for (const order of [
    ['shm', 'copy'],
    ['copy', 'shm'],
  ]) {
    it(`two copies of the addon (${order.join(' first, then ')}) each repair their own mappings`, async () => {
      for (const last of ['kill', 'fault']) {
        // A process killed by a signal leaves its names behind: a fresh one each run.
        const r = await run(uniqueName('copies'), [...order, 'shrink', last]);
        const [seen] = r.stdout.split('\n');
        expect(JSON.parse(seen as string)).toEqual(
          order.map((who) => ({ who, zero: 0, truncated: true })),
        );
        // ... and what neither owns still gets the default action, through both.
        expect(r.stdout).not.toContain('survived');
        expect({ code: r.code, signal: r.signal }).toEqual({ code: null, signal: 'SIGBUS' });
      }
    });
  }

  // Issue 15, item 7: the two copies share one handler (the first copy's), which comes back
  // whenever a process.on('SIGBUS') listener comes or goes; before, a listener added and removed
  // left the default action, and with this copy loaded first nothing re-armed the other's.
  for (const order of [
    ['shm', 'copy'],
    ['copy', 'shm'],
  ]) {
    it(`two copies (${order.join(' first, then ')}), listeners added and removed: both repaired, no loop`, async () => {
      for (const last of ['kill', 'fault']) {
        const r = await run(uniqueName('listen'), [...order, 'listen', 'shrink', last]);
        const [seen] = r.stdout.split('\n');
        expect(JSON.parse(seen as string)).toEqual(
          order.map((who) => ({ who, zero: 0, truncated: true })),
        );
        // What neither owns ends the process by SIGBUS: neither a loop between the copies nor a
        // stack overflow (SIGSEGV).
        expect(r.stdout).not.toContain('survived');
        expect({ code: r.code, signal: r.signal }).toEqual({ code: null, signal: 'SIGBUS' });
      }
    });
  }

  it('with a listener, our faults are repaired and kill -BUS reaches the listener; removed, SIGBUS kills', async () => {
    const r = await run(uniqueName('heard'), [
      'shm',
      'listener',
      'copy',
      'shrink',
      'kill',
      'unlisten',
      'fault',
    ]);
    const [seen, ...rest] = r.stdout.split('\n');
    expect(JSON.parse(seen as string)).toEqual([
      { who: 'shm', zero: 0, truncated: true },
      { who: 'copy', zero: 0, truncated: true },
    ]);
    expect(rest.slice(0, 2)).toEqual(['listener heard SIGBUS', 'survived kill']);
    expect(r.stdout).not.toContain('survived fault');
    expect({ code: r.code, signal: r.signal }).toEqual({ code: null, signal: 'SIGBUS' });
  });

  it('a handler installed over ours that calls ours back: repaired, and no endless loop', async () => {
    // The next mapping installs ours over it again, so a fault not ours goes ours -> it -> ours:
    // the second visit takes the default action.
    const r = await run(uniqueName('chain'), [
      'shm',
      'chaining-handler',
      'shm2',
      'shrink',
      'fault',
    ]);
    const [seen] = r.stdout.split('\n');
    expect(JSON.parse(seen as string)).toEqual([
      { who: 'shm', zero: 0, truncated: true },
      { who: 'shm2', zero: 0, truncated: true },
    ]);
    expect(r.stderr).toBe('chaining handler\n');
    expect(r.stdout).not.toContain('survived');
    expect({ code: r.code, signal: r.signal }).toEqual({ code: null, signal: 'SIGBUS' });
  });

  it('a handler installed before ours gets the faults that are not ours', async () => {
    const name = uniqueName('prev');
    const r = await run(name, ['foreign-handler', 'shm', 'copy', 'shrink', 'fault']);
    const [seen] = r.stdout.split('\n');
    expect(JSON.parse(seen as string)).toEqual([
      { who: 'shm', zero: 0, truncated: true },
      { who: 'copy', zero: 0, truncated: true },
    ]);
    expect(r.stderr).toBe('foreign handler\n');
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 42, signal: null });
  });
});
