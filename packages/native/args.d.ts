/**
 * The argument checks the native `@luaipc` packages share (descriptors, timeouts, signals, names,
 * sizes), with Node's errors. For authors of `@luaipc` packages.
 *
 * @packageDocumentation
 */
/**
 * Checks a LuaIPC object name (shm, sem): a non-empty string, not `.` or `..`, without '/' or
 * NUL (TypeError), at most `nameMax` bytes (else `IpcError` ENAMETOOLONG for `syscall`).
 * Returns the name.
 */
export declare function checkName(name: unknown, syscall: string, nameMax: number): string;
/** An integer in `[min, max]`. */
export declare function checkInteger(
  value: unknown,
  name: string,
  min: number,
  max: number,
): number;
/**
 * A file descriptor: a number, or an object whose `fd` is a number (a `FileHandle`), each an
 * integer in `[0, 2^31 - 1]` (`RangeError` naming `name`, or `name.fd` for the object's). A
 * closed FileHandle (`fd` -1) is `IpcError` EBADF for `syscall`; any other value a `TypeError`.
 * Returns the descriptor.
 */
export declare function checkFd(value: unknown, name: string, syscall: string): number;
/** Seconds (fractions allowed), or -1 for "forever" (`undefined`, negative, `Infinity`). */
export declare function checkTimeout(timeout: unknown, name?: string): number;
export declare function checkSignal(signal: unknown, name?: string): AbortSignal | undefined;
/** An options object (`{}` for `undefined`). */
export declare function checkOptions(options: unknown, name?: string): Record<string, unknown>;

/** What a Promise-form wait accepts besides `(timeout?, options?)`. */
export interface WaitOptions {
  /** Seconds, fractions allowed; absent or negative: no limit; 0: just try. */
  timeout?: number;
  /** Aborting rejects the pending wait with `signal.reason`. */
  signal?: AbortSignal;
}
/** `(timeout?, options?)` or `(options)`: the timeout in seconds (-1: forever) and the signal. */
export declare function waitArgs(
  timeoutOrOptions: unknown,
  options?: unknown,
): { timeout: number; signal: AbortSignal | undefined };
/** A size in bytes: an integer in `[min, max]` (`min` defaults to 1). */
export declare function checkSize(size: unknown, max: number, min?: number, name?: string): number;
