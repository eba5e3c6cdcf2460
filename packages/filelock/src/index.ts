/**
 * Byte-range locks on an open file, shared between processes and worker threads:
 * `await lock(fd, 'w')`, `lockSync`, `trylock`, `unlock` (LuaIPC's `filelock`).
 *
 * @packageDocumentation
 */
import type { FileHandle } from 'node:fs/promises';
import { isMainThread } from 'node:worker_threads';
import { IpcError, invalidArgType, invalidArgValue } from '@luaipc/filelike';
import { onAbort } from '@luaipc/native/abort';
import {
  checkFd,
  checkInteger,
  checkTimeout,
  type WaitOptions,
  waitArgs,
} from '@luaipc/native/args';
import { addon, type NativeLocker } from './binding.js';

export { IpcError, type WaitOptions };

/**
 * `'r'`: a shared (read) lock, many holders at once. `'w'`: an exclusive (write) lock.
 * `'rw'` is accepted as LuaIPC does, meaning `'w'`.
 */
export type LockMode = 'r' | 'w' | 'rw';

/** An open file: a descriptor number, or a `FileHandle` from `fs.promises.open()`. */
export type LockFile = number | FileHandle;

/** Options of {@link lockSync}: `timeout` in seconds (absent or negative: no limit; 0: try). */
export interface LockSyncOptions {
  timeout?: number;
}

/**
 * Whether this build locks with open-file-description locks (Linux): they exclude between
 * worker threads of one process too, and closing some other descriptor of the file keeps them.
 * `false` where the OS lacks them (macOS, the BSDs, builds with `LUAIPC_PORTABLE`): classic
 * POSIX locks, owned by the whole process (see the README's platform notes). `true` on Windows,
 * whose locks also belong to the open file (they are mandatory there and never convert between
 * modes: see the README's Windows notes).
 */
export const OFD_LOCKS: boolean = addon.OFD;

const MAX_OFFSET = Number.MAX_SAFE_INTEGER;

interface FileHandleLike {
  readonly fd: number;
  once(event: 'close', listener: () => void): unknown;
}

function isFileHandle(file: unknown): file is FileHandleLike {
  return (
    typeof file === 'object' &&
    file !== null &&
    typeof (file as { fd?: unknown }).fd === 'number' &&
    typeof (file as { once?: unknown }).once === 'function'
  );
}

/** The descriptor of `file`; a closed FileHandle is `IpcError` EBADF. */
function fdOf(file: unknown): number {
  if (typeof file === 'object' && file !== null && !isFileHandle(file)) {
    throw invalidArgType('file', 'of type number or an instance of FileHandle', file);
  }
  return checkFd(file, 'file', 'fcntl');
}

/**
 * `call()` (an addon call locking `fd`), its EBADF for a descriptor that is open but can't take
 * the lock made to say why (the OS's own message names no cause) and, where the OS tells it,
 * the path.
 */
function explainingBadFd<T>(fd: number, exclusive: boolean, call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw explained(error, fd, exclusive);
  }
}

function explained(error: unknown, fd: number, exclusive: boolean): unknown {
  if (!(error instanceof IpcError) || error.code !== 'EBADF') return error;
  const about = addon.describe(fd);
  let why: string;
  if (about === undefined) return error;
  if (about.kind === 'other') {
    why = 'is not a regular file';
  } else if (about.kind !== 'file') {
    why = `is ${/^[aeiou]/.test(about.kind) ? 'an' : 'a'} ${about.kind}, not a regular file`;
  } else if (exclusive && about.writable === false) {
    why = "is not open for writing, which a 'w' lock needs";
  } else if (!exclusive && about.readable === false) {
    why = "is not open for reading, which an 'r' lock needs";
  } else {
    return error;
  }
  const where = about.path === undefined ? ' (path unknown)' : '';
  return new IpcError('EBADF', 'fcntl', {
    description: `descriptor ${fd}${where} ${why}`,
    ...(about.path === undefined ? {} : { path: about.path }),
  });
}

function isExclusive(mode: unknown): boolean {
  if (mode === 'w' || mode === 'rw') return true;
  if (mode === 'r') return false;
  if (typeof mode !== 'string') throw invalidArgType('mode', 'of type string', mode);
  throw invalidArgValue('mode', mode, "must be 'r' (shared) or 'w' (exclusive)");
}

/** LuaIPC's `offset, nbytes`: absent is 0 (from the start; to the end of the file and beyond). */
function checkRange(offset: unknown, nbytes: unknown): { start: number; len: number } {
  return {
    start: offset === undefined ? 0 : checkInteger(offset, 'offset', 0, MAX_OFFSET),
    len: nbytes === undefined ? 0 : checkInteger(nbytes, 'nbytes', 0, MAX_OFFSET),
  };
}

const isOptions = (v: unknown): boolean => typeof v === 'object' && v !== null;

interface Parsed {
  fd: number;
  exclusive: boolean;
  start: number;
  len: number;
  options: unknown;
}

/**
 * `(file, mode, offset?, nbytes?, options?)`, where `options` may also come right after mode or
 * offset; without `withOptions`, `(file, mode, offset?, nbytes?)`.
 */
function parse(
  file: unknown,
  mode: unknown,
  a: unknown,
  b: unknown,
  c: unknown,
  withOptions = true,
): Parsed {
  const fd = fdOf(file);
  const exclusive = isExclusive(mode);
  let offset = a;
  let nbytes = b;
  let options = c;
  if (!withOptions) {
    // Plain numbers only: checkInteger words the error.
  } else if (isOptions(a)) {
    if (b !== undefined) throw invalidArgType('offset', 'of type number', a);
    [offset, nbytes, options] = [undefined, undefined, a];
  } else if (isOptions(b)) {
    if (c !== undefined) throw invalidArgType('nbytes', 'of type number', b);
    [nbytes, options] = [undefined, b];
  }
  const { start, len } = checkRange(offset, nbytes);
  if (options !== undefined && !isOptions(options)) {
    throw invalidArgType('options', 'of type object', options);
  }
  return { fd, exclusive, start, len, options };
}

let locker: NativeLocker | undefined;
let nextId = 1;

// One 'close' listener per FileHandle, however many lock() calls wait on it.
const closeWaiters = new WeakMap<FileHandleLike, Set<() => void>>();

function onClose(handle: FileHandleLike, fn: () => void): () => void {
  let set = closeWaiters.get(handle);
  if (set === undefined) {
    const fresh = new Set<() => void>();
    set = fresh;
    closeWaiters.set(handle, fresh);
    handle.once('close', () => {
      closeWaiters.delete(handle);
      for (const f of fresh) f();
    });
  }
  set.add(fn);
  const mine = set;
  return () => {
    mine.delete(fn);
  };
}

/**
 * Locks `nbytes` bytes of `file` from `offset` (LuaIPC's `filelock.lock`) without blocking the
 * event loop: the wait runs on a thread of ours. `mode` `'r'` takes a shared lock, `'w'` an
 * exclusive one; `nbytes` 0 or absent locks from `offset` to the end of the file and beyond.
 * Locking a range you already hold in the other mode converts it (not on Windows: see the
 * README). Resolves `true` once locked, `false` only when `options.timeout` (seconds) elapses
 * first. Rejects with `signal.reason` when `options.signal` aborts, with `IpcError`
 * `ECANCELED` when the FileHandle is closed meanwhile, and with `IpcError` for OS errors
 * (`EBADF`: not an open regular file, or not open for reading (`'r'`) / writing (`'w'`);
 * `EDEADLK`: a deadlock the kernel detected). A cancelled wait leaves no lock behind.
 */
export function lock(file: LockFile, mode: LockMode, options?: WaitOptions): Promise<boolean>;
export function lock(
  file: LockFile,
  mode: LockMode,
  offset?: number,
  options?: WaitOptions,
): Promise<boolean>;
export function lock(
  file: LockFile,
  mode: LockMode,
  offset?: number,
  nbytes?: number,
  options?: WaitOptions,
): Promise<boolean>;
export function lock(
  file: LockFile,
  mode: LockMode,
  a?: number | WaitOptions,
  b?: number | WaitOptions,
  c?: WaitOptions,
): Promise<boolean> {
  try {
    const { fd, exclusive, start, len, options } = parse(file, mode, a, b, c);
    const { timeout, signal } = waitArgs(options);
    if (signal?.aborted) return Promise.reject(signal.reason);
    locker ??= new addon.Locker();
    const native = locker;
    const handle = isFileHandle(file) ? file : undefined;
    if (signal === undefined && handle === undefined) {
      const result = explainingBadFd(fd, exclusive, () =>
        native.lock(fd, exclusive, start, len, timeout, 0),
      );
      return typeof result === 'boolean' ? Promise.resolve(result) : result;
    }
    const id = nextId;
    nextId = nextId >= 0xffffffff ? 1 : nextId + 1;
    const result = explainingBadFd(fd, exclusive, () =>
      native.lock(fd, exclusive, start, len, timeout, id),
    );
    if (typeof result === 'boolean') return Promise.resolve(result);
    const forgetAbort =
      signal === undefined ? undefined : onAbort(signal, () => native.cancel(id, signal.reason));
    const forgetClose =
      handle === undefined
        ? undefined
        : onClose(handle, () => native.cancel(id, new IpcError('ECANCELED', 'fcntl')));
    return result.finally(() => {
      forgetAbort?.();
      forgetClose?.();
    });
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * {@link lock}, blocking the calling thread until the lock is granted (`true`) or
 * `options.timeout` elapses (`false`). In a worker, `terminate()` (or the process exiting) ends
 * the wait within 100 ms without taking the lock.
 */
export function lockSync(file: LockFile, mode: LockMode, options?: LockSyncOptions): boolean;
export function lockSync(
  file: LockFile,
  mode: LockMode,
  offset?: number,
  options?: LockSyncOptions,
): boolean;
export function lockSync(
  file: LockFile,
  mode: LockMode,
  offset?: number,
  nbytes?: number,
  options?: LockSyncOptions,
): boolean;
export function lockSync(
  file: LockFile,
  mode: LockMode,
  a?: number | LockSyncOptions,
  b?: number | LockSyncOptions,
  c?: LockSyncOptions,
): boolean {
  const { fd, exclusive, start, len, options } = parse(file, mode, a, b, c);
  let timeout = -1;
  if (options !== undefined) {
    const { timeout: t, signal } = options as { timeout?: unknown; signal?: unknown };
    if (signal !== undefined) {
      throw invalidArgValue('options.signal', signal, 'is not supported by lockSync (use lock)');
    }
    timeout = checkTimeout(t, 'options.timeout');
  }
  return (
    explainingBadFd(fd, exclusive, () =>
      addon.lockSync(fd, exclusive, start, len, timeout, !isMainThread),
    ) ?? false
  );
}

/**
 * Locks the range if no other owner holds a conflicting lock, never waiting (LuaIPC's
 * `filelock.trylock`). Returns whether it did. Same arguments and errors as {@link lock}.
 */
export function trylock(file: LockFile, mode: LockMode, offset?: number, nbytes?: number): boolean {
  const { fd, exclusive, start, len } = parse(file, mode, offset, nbytes, undefined, false);
  return explainingBadFd(fd, exclusive, () => addon.trylock(fd, exclusive, start, len));
}

/**
 * Unlocks `nbytes` bytes of `file` from `offset` (0 or absent: to the end of the file and
 * beyond), whatever mode they were locked in (LuaIPC's `filelock.unlock`). Unlocking a range
 * you don't hold does nothing. Part of a locked range may be unlocked, splitting it (on Windows
 * only a range exactly as it was locked is released: see the README).
 */
export function unlock(file: LockFile, offset?: number, nbytes?: number): void {
  const fd = fdOf(file);
  const { start, len } = checkRange(offset, nbytes);
  addon.unlock(fd, start, len);
}
