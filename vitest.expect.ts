import { expect } from 'vitest';

/**
 * Assertions the packages' suites share. Each test file imports them through its package's
 * test/helpers.ts.
 */

/** A child that exited cleanly (no signal, code 0, nothing on stderr): its stdout as JSON. */
export function parseOk(r: {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}): // biome-ignore lint/suspicious/noExplicitAny: fixtures print what each test reads
any {
  expect({ signal: r.signal, code: r.code, stderr: r.stderr }).toEqual({
    signal: null,
    code: 0,
    stderr: '',
  });
  return JSON.parse(r.stdout);
}

/**
 * What `fn` throws, which must be an instance of `type` named like it (an `IpcError`'s name is
 * always `'IpcError'`); fails the test when it throws anything else, or nothing.
 */
export function thrownBy<E extends Error>(
  fn: () => unknown,
  type: abstract new (...args: never[]) => E,
): E {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(type);
    expect((e as Error).name).toBe(type.name);
    return e as E;
  }
  throw new Error(`expected a ${type.name}`);
}

/** Expects `fn` to throw the one use-after-close error, `attempt to use a closed <what>`. */
export function expectClosed(fn: () => unknown, what = 'file'): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(Error);
  expect(caught).not.toBeInstanceOf(TypeError);
  expect((caught as Error).message).toBe(`attempt to use a closed ${what}`);
  expect((caught as { code?: string }).code).toBe('ERR_IPC_CLOSED');
}
