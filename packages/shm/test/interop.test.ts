import { afterEach, describe, expect, it } from 'vitest';
import { attach, create } from '../src/index.js';
import { cleanup, exists, fixture, runChild, startChild, uniqueName } from './helpers.js';

afterEach(cleanup);

// Python's multiprocessing.shared_memory opens '/' + name with shm_open, as we do, so both
// meet on the same object.
describe("interop with Python's multiprocessing.shared_memory", () => {
  it('Python attaches to a segment Node created, reads it, and Node sees its reply', async () => {
    const name = uniqueName('py');
    const h = create(name, 8192);
    try {
      const bytes = Buffer.concat([
        Buffer.from('hello from node\n'),
        Buffer.from([0, 1, 254, 255]),
      ]);
      h.write(bytes);
      const r = await runChild('python3', [fixture('py_attach.py'), name, String(bytes.length)]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const [size, hex] = r.stdout.trim().split(' ');
      expect(Number(size)).toBe(8192);
      expect(hex).toBe(bytes.toString('hex'));
      // Python wrote right after our bytes, through its own mapping.
      expect(h.read('a').replace(/\0+$/, '')).toBe(`python saw ${bytes.length} bytes`);
      // Python's resource tracker did not remove our segment when it exited.
      expect(exists(name)).toBe(true);
    } finally {
      h.close();
    }
    expect(exists(name)).toBe(false);
  });

  it('Node attaches to a segment Python created and reads what Python wrote', async () => {
    const name = uniqueName('py');
    const py = startChild('python3', [fixture('py_create.py'), name, '5000']);
    try {
      await py.line('ready');
      const h = attach(name, { encoding: 'utf8' });
      expect(h.creator).toBe(false);
      expect(h.size()).toBe(5000);
      expect(h.read('l')).toBe('made in python: ünïcode');
      expect([...h.buffer.subarray(1000, 1256)]).toEqual(Array.from({ length: 256 }, (_, i) => i));
      h.seek('set', 2000);
      h.write('node-reply');
      h.close();
      // Our close of an attached handle leaves Python's name in place.
      expect(exists(name)).toBe(true);
      py.write('\n');
      const r = await py.done;
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('node wrote node-reply');
      expect(exists(name)).toBe(false);
    } finally {
      py.kill();
    }
  });
});
