import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fixture, runNode, tempDir, uniqueName } from './helpers.js';

// Issue 15, item 7: a process.on('SIGBUS') listener, added then removed, left SIGBUS at the
// default action (Node restores it), and with shm loaded before mmap the guard never came back:
// touching a shrunk mapping then killed the process. Every addon that maps memory (shm, mmap,
// sem) shares one fault handler, which the loader puts back whenever a SIGBUS listener comes or
// goes. Each scenario in a child process, in every load order, on the main thread and with the
// later packages in a worker.

// A run that fails half-way leaves its objects: they go after each test.
afterEach(cleanup);

const lost = { zero: 0, truncated: true, read: 'ENXIO' };
const expected = (packages: string[]) =>
  Object.fromEntries(packages.map((p) => [p, p === 'sem' ? 'ENXIO sem_post' : lost]));

describe.runIf(process.platform === 'linux')('SIGBUS listeners come and go', () => {
  for (const order of [
    ['shm', 'mmap', 'sem'],
    ['sem', 'mmap', 'shm'],
    ['mmap', 'shm', 'sem'],
  ]) {
    for (const where of ['main', 'worker']) {
      const placed =
        where === 'main'
          ? order.join(' then ')
          : `${order[0]}, ${order.slice(1).join(' then ')} in a worker`;
      it(`${placed}: listeners added and removed every way, then every object shrinks: IpcError, exit 0`, async () => {
        const name = uniqueName('guard');
        const args = [tempDir('guard'), name, order.join(','), where, 'toggled'];
        const r = await runNode(fixture('sigbus-guard.mjs'), args);
        expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({
          code: 0,
          signal: null,
          stderr: '',
        });
        const out = JSON.parse(r.stdout);
        expect(out.main).toEqual(expected(where === 'main' ? order : order.slice(0, 1)));
        if (where === 'worker') expect(out.worker).toEqual(expected(order.slice(1)));
      });

      it(`${placed}: with a listener kept, our faults stay ours and kill -BUS reaches it; without, kill -BUS kills`, async () => {
        const name = uniqueName('guard');
        const args = [tempDir('guard'), name, order.join(','), where, 'kept'];
        const r = await runNode(fixture('sigbus-guard.mjs'), args);
        expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({
          code: null,
          signal: 'SIGBUS',
          stderr: '',
        });
        const out = JSON.parse(r.stdout);
        expect(out.main).toEqual(expected(where === 'main' ? order : order.slice(0, 1)));
        if (where === 'worker') expect(out.worker).toEqual(expected(order.slice(1)));
        expect(out.heardFaults).toBe(0);
        expect(out.heardKill).toBe(1);
      });
    }
  }
});
