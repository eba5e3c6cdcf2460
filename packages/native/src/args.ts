/**
 * The argument checks the native `@luaipc` packages share (descriptors, timeouts, signals, names,
 * sizes), with Node's errors. Every package validates with these, once, before the addon is
 * called; the addon only converts values. For authors of `@luaipc` packages.
 *
 * @packageDocumentation
 */

import { IpcError, invalidArgType, invalidArgValue, outOfRange } from '@luaipc/filelike';

/**
 * Checks a LuaIPC object name (shm, sem): a non-empty string without '/' or NUL, at most
 * `nameMax` bytes (else `IpcError` ENAMETOOLONG for `syscall`, with the name in `path`).
 * Returns the name.
 */
export function checkName(name: unknown, syscall: string, nameMax: number): string {
  if (typeof name !== 'string') throw invalidArgType('name', 'of type string', name);
  if (name.length === 0) throw invalidArgValue('name', name, 'must not be empty');
  if (name.includes('/')) throw invalidArgValue('name', name, "must not contain '/'");
  if (name.includes('\0')) throw invalidArgValue('name', name, 'must not contain null bytes');
  if (name === '.' || name === '..') throw invalidArgValue('name', name, "must not be '.' or '..'");
  if (Buffer.byteLength(name) > nameMax)
    throw new IpcError('ENAMETOOLONG', syscall, { path: name });
  return name;
}

/** An integer in [min, max] (ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE otherwise). */
export function checkInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw outOfRange(name, `an integer >= ${min} and <= ${max}`, value);
  }
  return value;
}

const MAX_FD = 2 ** 31 - 1;

/**
 * A file descriptor: a number, or an object whose `fd` is a number (a `FileHandle` of
 * `fs.promises`), each an integer in [0, 2^31 - 1] as Node checks descriptors
 * (ERR_OUT_OF_RANGE naming `name`, or `name.fd` for the object's). A closed FileHandle (its `fd`
 * is -1) is `IpcError` EBADF for `syscall`. Anything else is ERR_INVALID_ARG_TYPE. Returns the
 * descriptor.
 */
export function checkFd(value: unknown, name: string, syscall: string): number {
  if (typeof value === 'number') return checkInteger(value, name, 0, MAX_FD);
  const fd =
    typeof value === 'object' && value !== null ? (value as { fd?: unknown }).fd : undefined;
  if (typeof fd === 'number') {
    if (fd === -1) throw new IpcError('EBADF', syscall);
    return checkInteger(fd, `${name}.fd`, 0, MAX_FD);
  }
  throw invalidArgType(name, 'of type number or an instance of FileHandle', value);
}

/**
 * A timeout in seconds (fractions allowed): `undefined`, negative or `Infinity` wait forever
 * (-1), `0` only tries. Returns seconds, or -1.
 */
export function checkTimeout(timeout: unknown, name = 'timeout'): number {
  if (timeout === undefined) return -1;
  if (typeof timeout !== 'number') throw invalidArgType(name, 'of type number', timeout);
  if (Number.isNaN(timeout)) throw outOfRange(name, 'a number of seconds', timeout);
  if (timeout < 0 || timeout === Number.POSITIVE_INFINITY) return -1;
  return timeout;
}

/** An optional AbortSignal (ERR_INVALID_ARG_TYPE otherwise). */
export function checkSignal(signal: unknown, name = 'options.signal'): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) {
    throw invalidArgType(name, 'an instance of AbortSignal', signal);
  }
  return signal;
}

/** An options object or undefined. */
export function checkOptions(options: unknown, name = 'options'): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') {
    throw invalidArgType(name, 'of type object', options);
  }
  return options as Record<string, unknown>;
}

/** What a Promise-form wait accepts besides `(timeout?, options?)`. */
export interface WaitOptions {
  /** Seconds, fractions allowed; absent or negative: no limit; 0: just try. */
  timeout?: number;
  /** Aborting rejects the pending wait with `signal.reason`. */
  signal?: AbortSignal;
}

/**
 * The arguments of every Promise-form wait: `(timeout?, options?)` or `(options)` with
 * `{ timeout?, signal? }`. Returns `{ timeout, signal }` with timeout in seconds or -1.
 */
export function waitArgs(
  timeoutOrOptions: unknown,
  maybeOptions?: unknown,
): { timeout: number; signal: AbortSignal | undefined } {
  let options: Record<string, unknown>;
  let timeout: number;
  if (timeoutOrOptions !== null && typeof timeoutOrOptions === 'object') {
    if (maybeOptions !== undefined)
      throw invalidArgType('timeout', 'of type number', timeoutOrOptions);
    options = timeoutOrOptions as Record<string, unknown>;
    timeout = checkTimeout(options.timeout, 'options.timeout');
  } else {
    options = checkOptions(maybeOptions);
    if (timeoutOrOptions === undefined) {
      timeout = checkTimeout(options.timeout, 'options.timeout');
    } else {
      timeout = checkTimeout(timeoutOrOptions);
      if (options.timeout !== undefined) {
        throw invalidArgValue(
          'options.timeout',
          options.timeout,
          'must not be given with a timeout argument',
        );
      }
    }
  }
  return { timeout, signal: checkSignal(options.signal) };
}

/** A size in bytes: an integer in [min, max]. */
export function checkSize(size: unknown, max: number, min = 1, name = 'size'): number {
  return checkInteger(size, name, min, max);
}
