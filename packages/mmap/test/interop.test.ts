import { afterEach, describe, expect, it } from 'vitest';
import { open, pagesize } from '../src/index.js';
import { cleanup, fixture, runChild, startChild, tempFile } from './helpers.js';

afterEach(cleanup);

// Python's mmap module maps the same file: through the page cache both see the same bytes.
describe("interop with Python's mmap", () => {
  it("Python reads what Node wrote through an 'rw' map after flush()", async () => {
    const path = tempFile(Buffer.alloc(3 * pagesize, '.'));
    const h = open(path, 'rw', pagesize);
    const bytes = Buffer.concat([Buffer.from('from node \u00e9\n'), Buffer.from([0, 1, 254, 255])]);
    h.seek('set', 10);
    h.write(bytes);
    h.buffer.write('via buffer', 100);
    h.flush();
    h.close();
    const r = await runChild('python3', [
      fixture('py_mmap.py'),
      'read',
      path,
      String(pagesize + 10),
      String(bytes.length),
    ]);
    expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({
      code: 0,
      signal: null,
      stderr: '',
    });
    expect(r.stdout.trim().split(' ')).toEqual([bytes.toString('hex'), bytes.toString('hex')]);
    const r2 = await runChild('python3', [
      fixture('py_mmap.py'),
      'read',
      path,
      String(pagesize + 100),
      '10',
    ]);
    expect(Buffer.from(r2.stdout.split(' ')[0] as string, 'hex').toString()).toBe('via buffer');
  });

  it("a write by Python's mmap is visible through our maps, and ours through Python's", async () => {
    const path = tempFile(Buffer.alloc(2 * pagesize, ' '));
    const rw = open(path, 'rw');
    const r = open(path, 'r', pagesize);
    const py = startChild('python3', [
      fixture('py_mmap.py'),
      'write',
      path,
      String(pagesize + 8),
      'python wrote this',
    ]);
    try {
      await py.line('ready');
      // Python's mapping is still open: the bytes are in the shared page cache.
      expect(rw.buffer.toString('latin1', pagesize + 8, pagesize + 25)).toBe('python wrote this');
      r.seek('set', 8);
      expect(r.read(17)).toBe('python wrote this');
      rw.seek('set', 100);
      rw.write('node replied');
      rw.flush();
      py.write('100 12\n');
      await py.line('python sees node replied');
      py.end();
      expect(await py.done).toMatchObject({ code: 0, signal: null, stderr: '' });
    } finally {
      py.kill();
      rw.close();
      r.close();
    }
  });
});
