import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fixture, parseOk, runChild, runNode, uniqueName } from './helpers.js';

afterEach(cleanup);

// Each scenario runs in its own process: a crash (SIGSEGV, SIGBUS, abort) shows as a signal or a
// non-zero exit instead of taking the test runner down.
const node = (file: string, args: string[], nodeArgs: string[] = []) =>
  runNode(fixture(file), args, { nodeArgs });

describe('safety (child processes)', () => {
  it('after close: methods throw ERR_IPC_CLOSED, Buffers stay valid until collected', async () => {
    const name = uniqueName('closed');
    const out = parseOk(await node('after-close.mjs', [name], ['--expose-gc']));
    expect(out.mappedBefore).toBe(true);
    // close() removed the name but not the memory the Buffers view.
    expect(out.mappedAfterClose).toBe(true);
    expect(out.lengths).toEqual([1 << 20, 1 << 20, 1 << 18, 100]);
    expect(out.first).toBe('x');
    expect(out.roundTrip).toEqual([0x79, 0xdeadbeef]);
    expect(out.slice).toBe(7);
    expect(out.copy).toBe('xy');
    const closed = 'Error ERR_IPC_CLOSED: attempt to use a closed file';
    expect(out.getter).toBe(closed);
    for (const [call, result] of Object.entries(out.methods)) {
      expect([call, result]).toEqual([call, closed]);
    }
    expect(Object.keys(out.methods)).toHaveLength(10);
    expect(out.closeAgain).toBe(true);
    // The closed handle, still held, does not keep the mapping; the Buffers did until collected.
    expect(out.mappedWhileBuffers).toBe(true);
    expect(out.mappedAfterBuffers).toBe(false);
    expect(out.handleKept).toBe(true);
    // Four threadpool jobs were filling the buffer when its handle was closed: they finish, into
    // the segment.
    expect(out.jobs).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(out.jobsWrote).toBe(true);
    expect(out.bigMapped).toBe(false);
    // A transfer list cannot detach the mapping behind the handle's back: Node 20 copies it
    // (it is marked untransferable), later versions refuse to move memory they do not own.
    expect(out.transfer).toBe(
      Number(process.versions.node.split('.')[0]) < 22 ? 'cloned 64' : 'DataCloneError',
    );
    expect(out.afterTransfer).toBe('abc');
  });

  it('GC of unclosed handles unmaps them and removes the creators\u2019 names', async () => {
    const base = uniqueName('gc');
    const out = parseOk(await node('gc.mjs', [base], ['--expose-gc']));
    expect(out.namesBefore).toBe(50);
    expect(out.mapsBefore).toBe(100);
    expect(out.namesAfter).toBe(0);
    expect(out.mapsAfter).toBe(0);
    // A Buffer kept after its handle was collected still works and keeps the name ...
    expect(out.keptData).toBe('kept data');
    expect(out.keptNameWhileBuffer).toBe(true);
    // ... until it is collected too.
    expect(out.keptNameAfter).toBe(false);
    expect(out.mapsAtEnd).toBe(0);
    // 200 closed 1 MiB handles still referenced: their mappings went with their Buffers.
    expect(out.heldCount).toBe(200);
    expect(out.heldMaps).toBe(0);
  });

  it('loads in worker_threads; terminated workers release their handles', async () => {
    const base = uniqueName('wk');
    const out = parseOk(await node('worker.mjs', [base]));
    expect(out.read).toBe('from worker');
    expect(out.existsBeforeTerminate).toBe(true);
    expect(out.exitCode).toBe(1);
    // The worker's creator handle was closed by the env cleanup hook: its name is gone ...
    expect(out.existsAfterTerminate).toBe(false);
    // ... and the main thread's own mapping still works.
    expect(out.readAfter).toBe('from worker');
    expect(out.churn).toEqual(['churned', 'churned', 'churned']);
    expect(out.churnExit).toEqual([0, 0, 0]);
    expect(out.cutExit).toBe(1);
    expect(out.leftover).toEqual([]);
  });

  it('10,000 create/close cycles leave fds, /dev/shm and the mappings as they were', async () => {
    const base = uniqueName('cyc');
    const { before, after } = parseOk(await node('cycles.mjs', [base], ['--expose-gc']));
    expect(after.fds).toBe(before.fds);
    expect(before.listing).toEqual([]);
    expect(after.listing).toEqual([]);
    // Every closed mapping is gone; V8 maps and unmaps heap pages of its own meanwhile, so the
    // count of all mappings only stays within a margin (10,000 leaked ones would add as many).
    expect(after.maps.shared).toBe(before.maps.shared);
    expect(Math.abs(after.maps.all - before.maps.all)).toBeLessThan(100);
  });

  for (const how of ['natural', 'exit', 'throw'] as const) {
    it(`a creator's names do not outlive its process (${how} exit)`, async () => {
      const base = uniqueName('exit');
      const r = await node('exit.mjs', [base, how]);
      expect(r.signal).toBeNull();
      expect(r.code).toBe({ natural: 0, exit: 3, throw: 1 }[how]);
      expect(readdirSync('/dev/shm').filter((n) => n.startsWith(`${base}-`))).toEqual([]);
    });

    it(`a creator collected while its Buffer lives keeps its name until the process ends (${how})`, async () => {
      const name = uniqueName('owned');
      const r = await node('exit-owned.mjs', [name, how], ['--expose-gc']);
      expect(r.stdout).toBe('collected\n');
      expect(r.signal).toBeNull();
      expect(r.code).toBe({ natural: 0, exit: 3, throw: 1 }[how]);
      expect(readdirSync('/dev/shm').filter((n) => n.startsWith(name))).toEqual([]);
    });
  }

  it('a full /dev/shm never means SIGBUS: ENOSPC at create(), or ENXIO in the portable build', async () => {
    // The portable build (macOS's path) has no posix_fallocate: a page the full tmpfs cannot
    // provide faults at first touch instead, which the mapping glue turns into IpcError ENXIO.
    const portable = process.env.LUAIPC_ADDON_DIR === 'build-portable';
    // A private mount namespace with a 1 MiB /dev/shm (needs root, as the CI machine is).
    const script = fixture(portable ? 'enospc-portable.mjs' : 'enospc.mjs');
    const r = await runChild('unshare', [
      '-m',
      'sh',
      '-c',
      `mount -t tmpfs -o size=1m tmpfs /dev/shm && exec "${process.execPath}" "${script}"`,
    ]);
    if (portable) {
      expect(parseOk(r)).toEqual({ write: 'ENXIO', truncated: true, after: [] });
      return;
    }
    expect(parseOk(r)).toEqual({
      big: { type: 'IpcError', code: 'ENOSPC', syscall: 'posix_fallocate', path: 'too-big' },
      listing: [],
      second: 'ENOSPC',
      filled: true,
      after: [],
    });
  });

  it('a size the OS refuses (file size limit) fails EFBIG and leaves no name behind', async () => {
    const name = uniqueName('efbig');
    const r = await runChild('sh', [
      '-c',
      `ulimit -f 1 && exec "${process.execPath}" "${fixture('efbig.mjs')}" "${name}"`,
    ]);
    const out = parseOk(r);
    expect(out).toEqual({
      type: 'IpcError',
      code: 'EFBIG',
      syscall: 'ftruncate',
      path: name,
      message: `EFBIG: file too large, ftruncate '${name}'`,
      exists: false,
    });
  });
});
