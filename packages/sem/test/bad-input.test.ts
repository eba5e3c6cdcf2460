import { afterEach, describe, expect, it } from 'vitest';
import { IpcError, open, Semaphore, unlink } from '../src/index.js';
import { cleanup, semExists, uniqueName } from './helpers.js';

afterEach(cleanup);

const notStrings: [unknown, string][] = [
  [undefined, 'type undefined (undefined)'],
  [null, 'null'],
  [42, 'type number (42)'],
  [Symbol('s'), 'type symbol (Symbol(s))'],
  [{}, 'an instance of Object'],
  [['a'], 'an instance of Array'],
  [() => 1, 'function'],
];

describe('names', () => {
  for (const [fn, call] of [
    ['open', (n: unknown) => open(n as string, 1)],
    ['open (existing)', (n: unknown) => open(n as string)],
    ['unlink', (n: unknown) => unlink(n as string)],
    ['Semaphore.unlink', (n: unknown) => Semaphore.unlink(n as string)],
  ] as const) {
    it(`${fn}: wrong types are TypeErrors`, () => {
      for (const [value, shown] of notStrings) {
        expect(() => call(value)).toThrow(
          new TypeError(`The "name" argument must be of type string. Received ${shown}`),
        );
      }
    });

    it(`${fn}: empty, '/' and NUL names are RangeErrors; too long is ENAMETOOLONG`, () => {
      expect(() => call('')).toThrow(new RangeError('The "name" argument must not be empty'));
      for (const bad of ['/', '/abs', 'a/b', 'trailing/']) {
        expect(() => call(bad)).toThrow(
          new RangeError(`The "name" argument must not contain '/'. Received '${bad}'`),
        );
      }
      expect(() => call('a\0b')).toThrow(
        new RangeError('The "name" argument must not contain null bytes'),
      );
      for (const long of ['x'.repeat(252), 'x'.repeat(100_000)]) {
        let caught: unknown;
        try {
          call(long);
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(IpcError);
        expect(caught).toMatchObject({ code: 'ENAMETOOLONG', name: long });
      }
    });
  }
});

describe('initial count', () => {
  it('wrong types are TypeErrors', () => {
    const name = uniqueName();
    for (const [value, shown] of [
      ['3', "type string ('3')"],
      [null, 'null'],
      [3n, 'type bigint (3)'],
      [true, 'type boolean (true)'],
      [{}, 'an instance of Object'],
    ] as [unknown, string][]) {
      expect(() => open(name, value as number)).toThrow(
        new TypeError(`The "n" argument must be of type number. Received ${shown}`),
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
        new RangeError(
          `The value of "n" is out of range. It must be an integer >= 0 and <= 2147483647. Received ${String(value)}`,
        ),
      );
    }
    expect(semExists(name)).toBe(false);
  });
});

describe('timeouts and options', () => {
  it('decSync and dec reject wrong timeout types and NaN', async () => {
    const sem = open(uniqueName(), 1);
    for (const [value, shown] of [
      ['1', "type string ('1')"],
      [null, 'null'],
      [1n, 'type bigint (1)'],
      [{}, 'an instance of Object'],
    ] as [unknown, string][]) {
      const error = new TypeError(
        `The "timeout" argument must be of type number. Received ${shown}`,
      );
      expect(() => sem.decSync(value as number)).toThrow(error);
      await expect(sem.dec(value as number)).rejects.toThrow(error);
    }
    const nan = new RangeError('The "timeout" argument must not be NaN');
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
    for (const [value, shown] of [
      [null, 'null'],
      ['x', "type string ('x')"],
      [1, 'type number (1)'],
    ] as [unknown, string][]) {
      await expect(sem.dec(1, value as object)).rejects.toThrow(
        new TypeError(`The "options" argument must be of type object. Received ${shown}`),
      );
    }
    for (const [value, shown] of [
      [null, 'null'],
      [{ aborted: true }, 'an instance of Object'],
      [new AbortController(), 'an instance of AbortController'],
      ['signal', "type string ('signal')"],
    ] as [unknown, string][]) {
      await expect(sem.dec(1, { signal: value as AbortSignal })).rejects.toThrow(
        new TypeError(
          `The "options.signal" property must be an instance of AbortSignal. Received ${shown}`,
        ),
      );
    }
    await expect(sem.dec(1, {})).resolves.toBe(true);
    sem.close();
  });
});
