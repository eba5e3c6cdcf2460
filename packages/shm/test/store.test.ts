import { FileLike, IpcError, MappedStore, TRUNCATED_CODE } from '@luaipc/filelike';
import { describe, expect, it } from 'vitest';

// MappedStore (from @luaipc/filelike) is the store every shm handle reads through; here with a
// fake probe instead of the addon's fault handler.
function fakeProbe() {
  const probe = {
    epoch: new Uint32Array(1),
    lost: false,
    asked: 0,
    truncated() {
      probe.asked++;
      return probe.lost;
    },
  };
  return probe;
}

describe('MappedStore', () => {
  it('asks the addon only when the epoch moved', () => {
    const probe = fakeProbe();
    const f = new FileLike(new MappedStore(Buffer.from('a\nb\nc\n'), probe, 'seg'));
    expect([...f.lines()]).toEqual(['a', 'b', 'c']);
    expect(probe.asked).toBe(0);
    // Another mapping was repaired: one question, then quiet again.
    probe.epoch[0] = 1;
    f.seek('set');
    expect(f.read('a')).toBe('a\nb\nc\n');
    f.seek('set');
    expect(f.read('l')).toBe('a');
    expect(probe.asked).toBe(1);
  });

  it('once truncated, every read and write throws IpcError ENXIO with the name in path', () => {
    const probe = fakeProbe();
    const bytes = Buffer.from('12 line\nmore');
    const store = new MappedStore(bytes, probe, 'seg');
    const f = new FileLike(store, { encoding: 'utf8' });
    probe.lost = true;
    probe.epoch[0] = (probe.epoch[0] ?? 0) + 1;
    expect(store.truncated).toBe(true);
    const attempts: [string, () => unknown][] = [
      ['read', () => f.read('a')],
      ['read', () => f.read(3)],
      ['read', () => f.read('n')],
      ['read', () => f.read('L')],
      ['read', () => f.lines().next()],
      ['write', () => f.write('x')],
    ];
    for (const [syscall, attempt] of attempts) {
      f.seek('set');
      let caught: unknown;
      try {
        attempt();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(IpcError);
      expect(caught).toMatchObject({ code: TRUNCATED_CODE, syscall, path: 'seg' });
      expect((caught as Error).message).toBe(
        `ENXIO: mapped object was truncated, ${syscall} 'seg'`,
      );
    }
    // The write never reached the memory.
    expect(bytes.toString('latin1', 0, 2)).toBe('12');
    expect(probe.asked).toBe(1);
  });

  it('a fault during an access is reported by that access (checked after the copy)', () => {
    const probe = fakeProbe();
    const bytes = Buffer.from('hello world');
    // As if the fault handler ran while the bytes were being copied.
    const faulting = Object.assign(bytes, {
      subarray(...args: Parameters<Buffer['subarray']>) {
        probe.lost = true;
        probe.epoch[0] = (probe.epoch[0] ?? 0) + 1;
        return Buffer.prototype.subarray.apply(bytes, args);
      },
    });
    const f = new FileLike(new MappedStore(faulting, probe, 'seg'), { encoding: 'buffer' });
    expect(() => f.read(5)).toThrow(IpcError);
    expect(probe.asked).toBe(1);
  });

  it('decodes UTF-8 from a private copy, short and long lines, never in place', () => {
    const probe = fakeProbe();
    const text = `${'é€😀 '.repeat(10)}\n${'x'.repeat(100_000)}é\n`;
    // A decode straight from the shared bytes (V8 reads them twice: a writer in between would
    // overflow the string) would go through their own slicer.
    const bytes = Object.assign(Buffer.from(text), {
      utf8Slice(): never {
        throw new Error('decoded in place');
      },
    });
    const f = new FileLike(new MappedStore(bytes, probe, 'seg'));
    const first = f.read('l');
    const second = f.read('l');
    expect(first).toBe('é€😀 '.repeat(10));
    expect(second).toBe(`${'x'.repeat(100_000)}é`);
    bytes.fill(0x41);
    expect(first).toBe('é€😀 '.repeat(10));
    f.seek('set');
    expect(f.read(3)).toBe('AAA');
  });

  it('release() lets go of the memory', () => {
    const store = new MappedStore(Buffer.alloc(10), fakeProbe(), 'seg');
    store.release();
    expect(store.byteLength).toBe(0);
  });
});
