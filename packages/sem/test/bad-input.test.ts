import { nodeArgTypeMessage, nodeArgValueReceived, nodeRangeReceived } from '@luaipc/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { IpcError, open, SEM_VALUE_MAX, unlink } from '../src/index.js';
import { cleanup, semExists, uniqueName } from './helpers.js';

afterEach(cleanup);

const notStrings: unknown[] = [undefined, null, 42, Symbol('s'), {}, ['a'], () => 1, 3n];

/** Node's ERR_INVALID_ARG_TYPE for `name` (its wording from @luaipc/testing). */
function nodeTypeError(name: string, expected: string, value: unknown) {
  return expect.objectContaining({
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_TYPE',
    message: nodeArgTypeMessage(name, expected, value),
  });
}

describe('names', () => {
  for (const [fn, call] of [
    ['open', (n: unknown) => open(n as string, 1)],
    ['open (existing)', (n: unknown) => open(n as string)],
    ['unlink', (n: unknown) => unlink(n as string)],
  ] as const) {
    it(`${fn}: wrong types are TypeErrors worded as Node's`, () => {
      for (const value of notStrings) {
        expect(() => call(value)).toThrow(nodeTypeError('name', 'of type string', value));
      }
    });

    it(`${fn}: empty, '.', '..', '/' and NUL names are ERR_INVALID_ARG_VALUE; too long is ENAMETOOLONG`, () => {
      const invalid = (reason: string, value: string) =>
        expect(() => call(value)).toThrow(
          expect.objectContaining({
            name: 'TypeError',
            code: 'ERR_INVALID_ARG_VALUE',
            message: `The argument 'name' ${reason}.${nodeArgValueReceived(value)}`,
          }),
        );
      invalid('must not be empty', '');
      for (const bad of ['/', '/abs', 'a/b', 'trailing/']) invalid("must not contain '/'", bad);
      invalid('must not contain null bytes', 'a\0b');
      invalid("must not be '.' or '..'", '.');
      invalid("must not be '.' or '..'", '..');
      for (const long of ['x'.repeat(252), 'x'.repeat(100_000)]) {
        let caught: unknown;
        try {
          call(long);
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(IpcError);
        expect(caught).toMatchObject({ code: 'ENAMETOOLONG', name: 'IpcError', path: long });
      }
    });
  }
});

describe('initial count', () => {
  it('wrong types are TypeErrors', () => {
    const name = uniqueName();
    for (const value of ['3', null, 3n, true, {}]) {
      expect(() => open(name, value as number)).toThrow(
        nodeTypeError('n', 'of type number', value),
      );
    }
    expect(semExists(name)).toBe(false);
  });

  it('NaN, fractions, negatives, infinities and counts above SEM_VALUE_MAX are RangeErrors', () => {
    const name = uniqueName();
    for (const value of [
      Number.NaN,
      0.5,
      1.5,
      -1,
      -0.5,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      2 ** 31,
      2 ** 53,
      1e300,
    ]) {
      expect(() => open(name, value)).toThrow(
        expect.objectContaining({
          name: 'RangeError',
          code: 'ERR_OUT_OF_RANGE',
          message: `The value of "n" is out of range. It must be an integer >= 0 and <= ${SEM_VALUE_MAX}.${nodeRangeReceived(value)}`,
        }),
      );
    }
    expect(semExists(name)).toBe(false);
  });
});

describe('timeouts and options', () => {
  it('decSync and dec reject wrong timeout types and NaN', async () => {
    const sem = open(uniqueName(), 1);
    for (const value of ['1', null, 1n, true] as unknown[]) {
      const error = nodeTypeError('timeout', 'of type number', value);
      expect(() => sem.decSync(value as number)).toThrow(error);
      await expect(sem.dec(value as number)).rejects.toThrow(error);
    }
    // An object is the options form, with a wrong timeout inside.
    await expect(sem.dec({ timeout: '1' as unknown as number })).rejects.toThrow(
      nodeTypeError('options.timeout', 'of type number', '1'),
    );
    const nan = expect.objectContaining({
      name: 'RangeError',
      code: 'ERR_OUT_OF_RANGE',
      message:
        'The value of "timeout" is out of range. It must be a number of seconds. Received NaN',
    });
    expect(() => sem.decSync(Number.NaN)).toThrow(nan);
    await expect(sem.dec(Number.NaN)).rejects.toThrow(nan);
    // None of these took the count.
    expect(sem.tryDec()).toBe(true);
    sem.close();
  });

  it('negative and huge timeouts mean "no limit"', async () => {
    const sem = open(uniqueName(), 1);
    for (const t of [
      -1,
      -0.001,
      Number.NEGATIVE_INFINITY,
      Number.POSITIVE_INFINITY,
      1e300,
      2 ** 63,
    ]) {
      expect(sem.decSync(t)).toBe(true);
      sem.inc();
      await expect(sem.dec(t)).resolves.toBe(true);
      sem.inc();
    }
    // A huge timeout really waits: it is still pending when the count arrives.
    sem.tryDec();
    const p = sem.dec(1e300);
    await new Promise((r) => setTimeout(r, 50));
    sem.inc();
    await expect(p).resolves.toBe(true);
    sem.close();
  });

  it('dec rejects bad options and non-AbortSignal signals', async () => {
    const sem = open(uniqueName(), 1);
    for (const value of [null, 'x', 1] as unknown[]) {
      await expect(sem.dec(1, value as object)).rejects.toThrow(
        nodeTypeError('options', 'of type object', value),
      );
    }
    for (const value of [null, { aborted: true }, new AbortController(), 'signal']) {
      const message = nodeTypeError('options.signal', 'an instance of AbortSignal', value);
      await expect(sem.dec(1, { signal: value as AbortSignal })).rejects.toThrow(message);
      await expect(sem.dec({ signal: value as AbortSignal })).rejects.toThrow(message);
    }
    // (timeout, { timeout }) is ambiguous and refused.
    await expect(sem.dec(1, { timeout: 2 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
    });
    await expect(sem.dec(1, {})).resolves.toBe(true);
    sem.close();
  });
});
