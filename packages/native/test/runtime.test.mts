import { describe, expect, it } from 'vitest';
import { onAbort } from '../src/abort.js';
import { checkFd, checkName, checkTimeout, waitArgs } from '../src/args.js';

describe('args', () => {
  it('waitArgs takes (timeout?, options?) and (options)', () => {
    const signal = new AbortController().signal;
    expect(waitArgs(undefined, undefined)).toEqual({ timeout: -1, signal: undefined });
    expect(waitArgs(1.5, { signal })).toEqual({ timeout: 1.5, signal });
    expect(waitArgs({ timeout: 0, signal })).toEqual({ timeout: 0, signal });
    expect(waitArgs(undefined, { timeout: 2 })).toEqual({ timeout: 2, signal: undefined });
    expect(waitArgs(-3)).toEqual({ timeout: -1, signal: undefined });
    expect(() => waitArgs({}, {})).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() => waitArgs(1, { timeout: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });

  it('checkTimeout maps forever to -1 and refuses NaN', () => {
    expect([undefined, -1, -0.5, Number.POSITIVE_INFINITY].map((t) => checkTimeout(t))).toEqual([
      -1, -1, -1, -1,
    ]);
    expect(checkTimeout(0)).toBe(0);
    expect(() => checkTimeout(Number.NaN)).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
  });

  it('checkFd checks a FileHandle-like `fd` exactly as a descriptor number', () => {
    expect(checkFd(7, 'file', 'fcntl')).toBe(7);
    expect(checkFd({ fd: 7 }, 'file', 'fcntl')).toBe(7);
    expect(checkFd(2 ** 31 - 1, 'file', 'fcntl')).toBe(2 ** 31 - 1);
    const range = (name: string, received: string) =>
      expect.objectContaining({
        name: 'RangeError',
        code: 'ERR_OUT_OF_RANGE',
        message: `The value of "${name}" is out of range. It must be an integer >= 0 and <= 2147483647. Received ${received}`,
      });
    for (const [value, received] of [
      [7.5, '7.5'],
      [2 ** 32 + 7, '4_294_967_303'],
      [2 ** 31, '2147483648'],
      [-2, '-2'],
      [Number.NaN, 'NaN'],
    ] as const) {
      expect(() => checkFd(value, 'file', 'fcntl')).toThrow(range('file', received));
      expect(() => checkFd({ fd: value }, 'options.stdin', 'dup2')).toThrow(
        range('options.stdin.fd', received),
      );
    }
    // A closed FileHandle reports -1: use after close, as fs does.
    expect(() => checkFd({ fd: -1 }, 'file', 'fcntl')).toThrow(
      expect.objectContaining({ name: 'IpcError', code: 'EBADF', syscall: 'fcntl' }),
    );
    expect(() => checkFd(-1, 'file', 'fcntl')).toThrow(range('file', '-1'));
    for (const value of ['3', { fd: '3' }, null, undefined, 3n]) {
      expect(() => checkFd(value, 'file', 'fcntl')).toThrow(
        expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }),
      );
    }
  });

  it('checkName puts a too-long name in the IpcError path', () => {
    expect(checkName('ok', 'shm_open', 10)).toBe('ok');
    expect(() => checkName('x'.repeat(11), 'shm_open', 10)).toThrow(
      expect.objectContaining({ name: 'IpcError', code: 'ENAMETOOLONG', path: 'x'.repeat(11) }),
    );
  });
});

describe('onAbort', () => {
  it('adds one listener per signal, calls each callback once, forgets on request', () => {
    const ac = new AbortController();
    const seen: number[] = [];
    let listeners = 0;
    const add = ac.signal.addEventListener.bind(ac.signal);
    ac.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      listeners++;
      add(...args);
    }) as typeof add;
    const forgets = Array.from({ length: 50 }, (_, i) => onAbort(ac.signal, () => seen.push(i)));
    forgets[3]?.();
    ac.abort();
    ac.abort();
    expect(listeners).toBe(1);
    expect(seen).toHaveLength(49);
    expect(seen).not.toContain(3);
  });
});
