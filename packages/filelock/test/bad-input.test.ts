// Argument errors: Node's classes, codes and wording, thrown before any system call (lock()
// rejects instead of throwing). None of them may crash the process.
import { closeSync, openSync } from 'node:fs';
import { nodeArgValueReceived, nodeRangeReceived } from '@luaipc/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lock, lockSync, trylock, unlock } from '../src/index.js';
import { cleanup, tempFile } from './helpers.js';

let fd = -1;
beforeAll(() => {
  fd = openSync(tempFile(), 'r+');
});
afterAll(() => {
  closeSync(fd);
  return cleanup();
});

const MAX = Number.MAX_SAFE_INTEGER;
const typeError = (message: string) => ({
  name: 'TypeError',
  code: 'ERR_INVALID_ARG_TYPE',
  message,
});
const valueError = (message: string) => ({
  name: 'TypeError',
  code: 'ERR_INVALID_ARG_VALUE',
  message,
});
const rangeError = (message: string) => ({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message });

/** The error `fn` throws (fails the test when it throws none). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('nothing thrown');
}

type Call = (args: unknown[]) => unknown;
const calls: [string, Call][] = [
  ['trylock', (a) => (trylock as (...x: unknown[]) => unknown)(...a)],
  ['lockSync', (a) => (lockSync as (...x: unknown[]) => unknown)(...a)],
];

/** trylock and lockSync throw `expected`, lock() rejects with it. */
async function expectBoth(
  args: unknown[],
  expected: { name: string },
  withTrylock = true,
): Promise<void> {
  const cls = expected.name === 'RangeError' ? RangeError : TypeError;
  for (const [name, call] of calls) {
    if (name === 'trylock' && !withTrylock) continue;
    const error = thrown(() => call(args));
    expect(error, name).toMatchObject(expected);
    expect(error, name).toBeInstanceOf(cls);
  }
  const p = (lock as (...x: unknown[]) => Promise<boolean>)(...args);
  await expect(p).rejects.toMatchObject(expected);
}

describe('file', () => {
  it('a non-number, non-FileHandle is ERR_INVALID_ARG_TYPE', async () => {
    const must = 'The "file" argument must be of type number or an instance of FileHandle.';
    await expectBoth(['3', 'w'], typeError(`${must} Received type string ('3')`));
    await expectBoth([undefined, 'w'], typeError(`${must} Received undefined`));
    await expectBoth([null, 'w'], typeError(`${must} Received null`));
    await expectBoth([{}, 'w'], typeError(`${must} Received an instance of Object`));
    await expectBoth([{ fd: 3 }, 'w'], typeError(`${must} Received an instance of Object`));
    await expectBoth([3n, 'w'], typeError(`${must} Received type bigint (3n)`));
    expect(() => unlock('3' as never)).toThrow(
      expect.objectContaining(typeError(`${must} Received type string ('3')`)),
    );
  });

  it('a negative, fractional or too large number is ERR_OUT_OF_RANGE', async () => {
    const range = (v: number) =>
      rangeError(
        `The value of "file" is out of range. It must be an integer >= 0 and <= 2147483647.${nodeRangeReceived(v)}`,
      );
    await expectBoth([-1, 'w'], range(-1));
    await expectBoth([1.5, 'w'], range(1.5));
    await expectBoth([2 ** 31, 'w'], range(2 ** 31));
    await expectBoth([Number.NaN, 'r'], range(Number.NaN));
    expect(() => unlock(-1)).toThrow(expect.objectContaining(range(-1)));
  });
});

describe('file.fd', () => {
  it("a FileHandle's fd is checked as a descriptor number is, naming file.fd", async () => {
    const handle = (value: number) => ({ fd: value, once: () => undefined });
    const range = (v: number) =>
      rangeError(
        `The value of "file.fd" is out of range. It must be an integer >= 0 and <= 2147483647.${nodeRangeReceived(v)}`,
      );
    // Each of these once locked descriptor `fd` itself (the addon read an int32 from it).
    for (const bad of [fd + 0.5, 2 ** 32 + fd, -(2 ** 32) + fd, 2 ** 31, -2, Number.NaN]) {
      await expectBoth([handle(bad), 'w'], range(bad));
      expect(() => unlock(handle(bad) as never)).toThrow(expect.objectContaining(range(bad)));
    }
    // The descriptor itself was never locked by any of them.
    expect(trylock(fd, 'w')).toBe(true);
    unlock(fd);
  });
});

describe('mode', () => {
  it("anything but 'r', 'w' (or LuaIPC's 'rw') is refused", async () => {
    const must = "The argument 'mode' must be 'r' (shared) or 'w' (exclusive).";
    await expectBoth([fd, 'x'], valueError(`${must} Received 'x'`));
    await expectBoth([fd, 'W'], valueError(`${must} Received 'W'`));
    await expectBoth([fd, ''], valueError(`${must} Received ''`));
    await expectBoth(
      [fd, 1],
      typeError('The "mode" argument must be of type string. Received type number (1)'),
    );
    await expectBoth(
      [fd],
      typeError('The "mode" argument must be of type string. Received undefined'),
    );
    expect(trylock(fd, 'rw', 0, 1)).toBe(true);
    unlock(fd);
  });
});

describe('offset and nbytes', () => {
  it('negative, fractional, unsafe or non-number values are refused', async () => {
    for (const name of ['offset', 'nbytes']) {
      const args = (v: unknown) => (name === 'offset' ? [fd, 'w', v] : [fd, 'w', 0, v]);
      const range = (v: number) =>
        rangeError(
          `The value of "${name}" is out of range. It must be an integer >= 0 and <= ${MAX}.${nodeRangeReceived(v)}`,
        );
      await expectBoth(args(-1), range(-1));
      await expectBoth(args(0.5), range(0.5));
      await expectBoth(args(2 ** 53), range(2 ** 53));
      await expectBoth(args(Number.POSITIVE_INFINITY), range(Number.POSITIVE_INFINITY));
      await expectBoth(
        args('1'),
        typeError(`The "${name}" argument must be of type number. Received type string ('1')`),
      );
      await expectBoth(
        args(1n),
        typeError(`The "${name}" argument must be of type number. Received type bigint (1n)`),
      );
    }
    expect(() => unlock(fd, -5)).toThrow(
      expect.objectContaining(
        rangeError(
          `The value of "offset" is out of range. It must be an integer >= 0 and <= ${MAX}. Received -5`,
        ),
      ),
    );
    expect(() => unlock(fd, 0, 0.5)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  it('an options object stands alone after mode or offset, never before a number', async () => {
    await expectBoth(
      [fd, 'w', { timeout: 0 }, 5],
      typeError('The "offset" argument must be of type number. Received an instance of Object'),
    );
    await expectBoth(
      [fd, 'w', 0, { timeout: 0 }, 5],
      typeError('The "nbytes" argument must be of type number. Received an instance of Object'),
      false,
    );
    expect(() => trylock(fd, 'w', 0, { timeout: 0 } as never)).toThrow(
      expect.objectContaining(
        typeError('The "nbytes" argument must be of type number. Received an instance of Object'),
      ),
    );
    expect(() => trylock(fd, 'w', { timeout: 0 } as never)).toThrow(
      expect.objectContaining(
        typeError('The "offset" argument must be of type number. Received an instance of Object'),
      ),
    );
  });
});

describe('options', () => {
  it('must be an object with a number timeout and an AbortSignal signal', async () => {
    await expectBoth(
      [fd, 'w', 0, 0, 5],
      typeError('The "options" argument must be of type object. Received type number (5)'),
      false,
    );
    await expectBoth(
      [fd, 'w', 0, 0, 'x'],
      typeError('The "options" argument must be of type object. Received type string (\'x\')'),
      false,
    );
    await expectBoth(
      [fd, 'w', { timeout: '1' }],
      typeError(
        'The "options.timeout" property must be of type number. Received type string (\'1\')',
      ),
      false,
    );
    await expectBoth(
      [fd, 'w', { timeout: Number.NaN }],
      rangeError(
        'The value of "options.timeout" is out of range. It must be a number of seconds. Received NaN',
      ),
      false,
    );
    await expect(lock(fd, 'w', { signal: 'x' as never })).rejects.toMatchObject(
      typeError(
        'The "options.signal" property must be an instance of AbortSignal. Received type string (\'x\')',
      ),
    );
  });

  it('lockSync refuses a signal (it could never fire while the thread is blocked)', () => {
    const signal = new AbortController().signal;
    expect(() => lockSync(fd, 'w', { signal } as never)).toThrow(
      expect.objectContaining(
        valueError(
          `The property 'options.signal' is not supported by lockSync (use lock).${nodeArgValueReceived(signal)}`,
        ),
      ),
    );
  });
});

describe('valid edge values', () => {
  it('offset and nbytes up to 2^53 - 1, and a range ending exactly there', () => {
    expect(trylock(fd, 'w', MAX, 0)).toBe(true);
    expect(trylock(fd, 'w', MAX - 10, 10)).toBe(true);
    expect(trylock(fd, 'w', 0, MAX)).toBe(true);
    unlock(fd, 0, 0);
    expect(lockSync(fd, 'r', 0, 1, {})).toBe(true);
    unlock(fd);
  });
});
