import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, fixture, parseOk, runChild, runNode, uniqueName } from './helpers.js';

afterEach(cleanup);

// The lifetime rules of the README ("Lifetime and safety"): close() ends the handle and releases
// the mapping, unless a Buffer or the address the user took still refers to it; then the mapping
// goes when that Buffer has been collected (or the handle, after addr()). Each scenario in its
// own process.

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'luaipc-shm-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('close() releases the segment when the user took no Buffer (issue 15, item 4)', () => {
  // Before, close() removed the name but the handle's own views kept the mapping, and with it
  // the segment's memory in /dev/shm, until a collection ran from the event loop.
  it('40,000 create/write/attach/read/close cycles in one synchronous loop leave nothing', async () => {
    const name = uniqueName('cyc');
    const out = parseOk(
      await runNode(fixture('close-frees.mjs'), [name, 'cycles', '40000'], {
        timeoutMs: 120_000,
      }),
    );
    expect(out).toMatchObject({
      cycles: 40_000,
      peakMaps: 0,
      mapsAfter: 0,
      fdsGrowth: 0,
      nameLeft: false,
    });
    // V8's heap and Node's bookkeeping of collected objects until the loop yields;
    // 80,000 leaked mappings would have failed with ENOMEM long before.
    expect(out.rssGrowthMiB).toBeLessThan(256);
  });

  it('a 64 MiB segment, filled, then closed: no name, no mapping, no descriptor, out of RSS', async () => {
    const name = uniqueName('big');
    const out = parseOk(await runNode(fixture('close-frees.mjs'), [name, 'big', '64']));
    expect(out).toMatchObject({
      first: 'x',
      mapsOpen: 1,
      nameLeft: false,
      mapsClosed: 0,
      fdsClosed: 0,
    });
    // Nothing refers to the memory any more, so tmpfs has freed it.
    expect(out.rssOpenMiB - out.rssClosedMiB).toBeGreaterThan(48);
  });
});

describe('close() while Node still reads buffer (issue 6, item 3)', () => {
  const cases: [string, Record<string, unknown>][] = [
    // Detaching on close aborted the process here.
    ['gzip', { gzip: true }],
    // ... and sent zeros, or nothing, to the file in these.
    ['writeFile', { writeFile: true }],
    ['promisesWriteFile', { promisesWriteFile: true }],
    ['write', { written: 8 << 20, write: true }],
    ['stream', { stream: true }],
  ];
  for (const [which, expected] of cases) {
    it(`${which}: the output has the segment's bytes and the process exits 0`, async () => {
      const name = uniqueName('flight');
      const out = parseOk(await runNode(fixture('in-flight.mjs'), [name, dir, which]));
      expect(out).toEqual(expected);
    });
  }
});

describe('unclosed handles are collected before they exhaust the system (issue 6, item 3)', () => {
  it('70,000 unclosed attach() calls stay far below vm.max_map_count', async () => {
    const base = uniqueName('att');
    const r = await runNode(fixture('unclosed.mjs'), [base, 'attach', '70000'], {
      timeoutMs: 30_000,
    });
    const out = parseOk(r);
    expect(out.peakMappings).toBeLessThan(20_000);
  });

  it('a loop that never yields gets IpcError ENOMEM from us, not a V8 fatal OOM, and recovers', async () => {
    // Finalizers run from the event loop, so nothing can be collected inside one synchronous
    // loop: the addon stops at half of vm.max_map_count, leaving V8 room for its own memory.
    const base = uniqueName('sync');
    const out = parseOk(
      await runNode(fixture('unclosed.mjs'), [base, 'sync', '70000'], { timeoutMs: 30_000 }),
    );
    expect(out.error).toBe('IpcError ENOMEM mmap');
    expect(out.peakMappings).toBeGreaterThan(10_000);
    expect(out.peakMappings).toBeLessThan(65_530);
    // Once the loop yielded, the garbage was collected and attach() works again.
    expect(out.after).toBe('shared');
  });

  it('unclosed create() calls do not fill /dev/shm: collected creators remove their names', async () => {
    const base = uniqueName('crt');
    const out = parseOk(
      await runNode(fixture('unclosed.mjs'), [base, 'create', '3000'], { timeoutMs: 30_000 }),
    );
    // 3,000 MiB were created in all; only a few hundred at most were alive at once.
    expect(out.peakNames).toBeLessThan(500);
    expect(readdirSync('/dev/shm').filter((n) => n.startsWith(base))).toEqual([]);
  });

  it('100 unclosed 64 MiB creators fit in a 512 MiB /dev/shm', async () => {
    // A private mount namespace with a small /dev/shm (needs root, as the CI machine is).
    const r = await runChild('unshare', [
      '-m',
      'sh',
      '-c',
      `mount -t tmpfs -o size=512m tmpfs /dev/shm && exec "${process.execPath}" "${fixture('unclosed.mjs')}" big big 100`,
    ]);
    const out = parseOk(r);
    expect(out.peakNames).toBeLessThan(8);
  });
});

describe('a creator removes its name only while it names its own segment (issue 6)', () => {
  // The name is unlinked and another process creates a new segment under it before our creator
  // lets go (by each of these ways); the newer segment must survive.
  for (const how of ['gc', 'close', 'exit', 'throw', 'buffer-exit', 'worker'] as const) {
    it(`${how}`, async () => {
      const name = uniqueName('ident');
      const r = await runNode(fixture('identity.mjs'), [name, how], { nodeArgs: ['--expose-gc'] });
      expect(r.signal).toBeNull();
      expect(r.code).toBe(how === 'throw' ? 1 : 0);
      expect(JSON.parse(r.stdout)).toEqual({ survived: 'newer' });
      // And after the process is gone.
      expect(readdirSync('/dev/shm')).toContain(name);
    });
  }
});

describe('Buffers and other threads', () => {
  it('a worker that gets a copy of buffer while the main thread closes keeps valid bytes', async () => {
    const name = uniqueName('wbuf');
    const out = parseOk(await runNode(fixture('threads.mjs'), [name, 'copy']));
    expect(out).toEqual({ worker: 'hello from main', main: 'hello from main' });
  });

  it('a worker terminated while zlib reads its buffer releases everything, no crash', async () => {
    const name = uniqueName('wzip');
    const out = parseOk(await runNode(fixture('threads.mjs'), [name, 'terminate-zlib']));
    expect(out.exits.every((c: number) => c === 1)).toBe(true);
    expect(out.leftover).toEqual([]);
    expect(out.maps).toBe(0);
  });

  it("process.exit() in a worker removes the worker's names, not the main thread's", async () => {
    const name = uniqueName('wexit');
    const out = parseOk(await runNode(fixture('threads.mjs'), [name, 'worker-exit']));
    expect(out).toEqual({ workerExit: 5, mainName: true, workerName: false });
  });

  it('a handle dropped and collected while zlib reads its buffer: correct output', async () => {
    const name = uniqueName('gcz');
    const out = parseOk(
      await runNode(fixture('threads.mjs'), [name, 'gc-zlib'], { nodeArgs: ['--expose-gc'] }),
    );
    expect(out).toEqual({ collected: true, same: true });
  });
});
