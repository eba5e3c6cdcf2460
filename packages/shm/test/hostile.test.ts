import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fixture, parseOk, runChild, uniqueName } from './helpers.js';

afterEach(cleanup);

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

describe('the fault handler under churn', () => {
  it('repairs land on the right mapping while other threads map and unmap', async () => {
    const base = uniqueName('churn');
    const out = parseOk(await runChild(process.execPath, [fixture('churn-faults.mjs'), base, '3']));
    expect(out.repairs).toBeGreaterThan(100);
    expect(out.intact).toBe(out.repairs);
    expect(out.cycles).toBe(true);
  });
});
