import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, fixture, parseOk, runNode, tempPath } from './helpers.js';

afterEach(cleanup);

// The lifetime rules of the README ("Lifetime and safety"): close() ends the handle and releases
// the mapping, unless a Buffer or the address the user took still refers to it; then the mapping
// goes when that Buffer has been collected (or the handle, after addr()). Each scenario in its
// own process, which must exit 0 without a signal.

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'luaipc-mmap-life-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('garbage collection', () => {
  it('unclosed handles are finalized; Buffers keep their mapping until they are collected too', async () => {
    const out = parseOk(
      await runNode(fixture('gc.mjs'), [tempPath('gc')], { nodeArgs: ['--expose-gc'] }),
    );
    expect(out).toEqual({
      mapsBefore: 50,
      mapsAfter: 0,
      keptData: 'kept data',
      droppedData: 'kept data',
      mapsWhileBuffers: 2,
      mapsAtEnd: 0,
      heldCount: 200,
      heldMaps: 0,
    });
  });

  it('10,000 unclosed open() calls of a 64 MiB file: collected as they go (sizes reported to V8)', async () => {
    const out = parseOk(
      await runNode(fixture('unclosed.mjs'), [tempPath('loop'), 'loop', '10000'], {
        timeoutMs: 60_000,
      }),
    );
    // 640 GiB mapped in all; only a few dozen mappings alive at once.
    expect(out.peakMappings).toBeLessThan(1000);
  });

  it('a loop that never yields gets IpcError ENOMEM from us, not a V8 fatal OOM, and recovers', async () => {
    const out = parseOk(
      await runNode(fixture('unclosed.mjs'), [tempPath('sync'), 'sync', '70000'], {
        timeoutMs: 60_000,
      }),
    );
    expect(out.error).toBe('IpcError ENOMEM mmap');
    expect(out.peakMappings).toBeGreaterThan(10_000);
    expect(out.peakMappings).toBeLessThan(65_530);
    expect(out.after).toBe('mapped');
  });
});

describe('close() releases the mapping when the user took no Buffer and no address', () => {
  // Issue 15, item 3: close() unmapped nothing until a collection ran from the event loop (the
  // handle's own views held the mapping), so a synchronous open/read/close loop got ENOMEM at
  // about 32,765 cycles, and a file read with lines() stayed in RSS after close().
  it('40,000 open/read/close cycles in one synchronous loop: mappings, descriptors and RSS flat', async () => {
    const out = parseOk(
      await runNode(fixture('close-frees.mjs'), [tempPath('cycles'), 'cycles', '40000'], {
        timeoutMs: 120_000,
      }),
    );
    expect(out.cycles).toBe(40_000);
    expect(out.peakMaps).toBe(0);
    expect(out.mapsAfter).toBe(0);
    expect(out.fdsAfter).toBe(out.fdsBefore);
    // What grows is V8's heap and Node's bookkeeping of collected objects until the loop
    // yields; 40,000 leaked mappings would have failed with ENOMEM at about 32,765.
    expect(out.rssGrowthMiB).toBeLessThan(256);
  });

  it('a 64 MiB file read to the end with lines(): close() takes its pages out of RSS', async () => {
    const out = parseOk(
      await runNode(fixture('close-frees.mjs'), [tempPath('big'), 'big', '64'], {
        timeoutMs: 120_000,
      }),
    );
    expect(out.lines).toBe(851_968);
    expect(out.mapsRead).toBe(1);
    expect(out.mapsClosed).toBe(0);
    expect(out.rssReadMiB - out.rssClosedMiB).toBeGreaterThan(48);
  });

  it('a Buffer or the address the user took keeps the mapping until collected', async () => {
    const out = parseOk(
      await runNode(fixture('close-frees.mjs'), [tempPath('kept'), 'kept'], {
        nodeArgs: ['--expose-gc'],
      }),
    );
    expect(out).toEqual({
      bufferClosed: 1,
      bufferReads: 'kept',
      bufferCollected: 0,
      addr: 'bigint',
      addrClosed: 1,
      addrCollected: 0,
      droppedCollected: 0,
    });
  });
});

describe('close() while Node still uses the Buffer', () => {
  it('zlib in the threadpool and fs.writeFile finish with the bytes of the file', async () => {
    const out = parseOk(await runNode(fixture('in-flight.mjs'), [tempPath('flight'), dir]));
    expect(out).toEqual({ gzip: true, writeFile: true });
  });
});

describe('worker threads', () => {
  it('workers map the file; terminated mid-lines() or with handles held, or ending on their own', async () => {
    const out = parseOk(await runNode(fixture('worker.mjs'), [tempPath('worker')]));
    expect(out).toEqual({
      base: 1,
      // The worker's handle and an 'r' mapping's Buffer it keeps.
      whileHeld: 2,
      read: 'from worker',
      holdExit: 1,
      // The worker's teardown released its mappings.
      afterHold: 0,
      linesExit: 1,
      afterLines: 0,
      doneMessage: 'from wodone\n',
      doneExit: 0,
      afterDone: 0,
      readAfter: 'from wodone',
    });
  });

  it("a mapping's ArrayBuffer in a transfer list is never detached (copied, or refused)", async () => {
    const out = parseOk(
      await runNode(fixture('transfer.mjs'), [tempPath('transfer')], { nodeArgs: ['--expose-gc'] }),
    );
    // Node 20 ignores untransferable buffers in a transfer list and copies them; Node 21+
    // throws a DataCloneError.
    const copies = Number(process.versions.node.split('.')[0]) < 21;
    expect(out).toEqual({
      posted: copies ? 'ok' : 'DataCloneError',
      ...(copies ? { received: 'transfer' } : {}),
      byteLength: 12,
      stillReads: 'transfer me',
      cloned: copies ? 'ok' : 'DataCloneError',
      afterClone: 'transfer',
      transferMethod: copies ? 'TypeError' : 'moved 12',
      ...(copies ? {} : { readAfterTransfer: 'Transfer me', readAfterCollect: 'Transfer me' }),
    });
  });
});

describe('process exit with mappings open', () => {
  for (const how of ['exit', 'end']) {
    it(`${how === 'exit' ? 'process.exit()' : 'the end of the event loop'}: exit 0, written bytes in the file`, async () => {
      const file = tempPath('exit');
      const r = await runNode(fixture('exit.mjs'), [file, how]);
      expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({
        code: 0,
        signal: null,
        stderr: '',
      });
      expect(readFileSync(file, 'utf8')).toBe('AT exit\n');
    });
  }
});
