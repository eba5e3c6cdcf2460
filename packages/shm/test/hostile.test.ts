import { describe, expect, it } from 'vitest';
import { fixture, parseOk, runChild, uniqueName } from './helpers.js';

// Resource limits at their worst, each in a child process.
describe('resource limits', () => {
  it('a process out of file descriptors still removes its names (close, GC, exit)', async () => {
    const base = uniqueName('emfile');
    const r = await runChild('sh', [
      '-c',
      `ulimit -n 64 && exec "${process.execPath}" --expose-gc "${fixture('emfile.mjs')}" "${base}"`,
    ]);
    expect(parseOk(r)).toEqual({ emfile: true, create: 'EMFILE', closed: false, collected: false });
    const { readdirSync } = await import('node:fs');
    expect(readdirSync('/dev/shm').filter((n) => n.startsWith(base))).toEqual([]);
  });

  it('ulimit -v: a mapping the address space refuses is IpcError ENOMEM, no name left', async () => {
    const base = uniqueName('vm');
    const r = await runChild('sh', [
      '-c',
      `ulimit -v 2000000 && exec "${process.execPath}" "${fixture('vmlimit.mjs')}" "${base}" ${2 ** 31}`,
    ]);
    expect(parseOk(r)).toEqual({ create: 'IpcError ENOMEM mmap', left: false, small: true });
  });
});
