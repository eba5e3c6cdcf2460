/**
 * Named counting semaphores: `open(name, n?)`, `inc`, `await dec(timeout?)`, `decSync` (LuaIPC's
 * `sem`).
 *
 * @packageDocumentation
 */
import { isMainThread } from 'node:worker_threads';
import { IpcError, illegalConstructor } from '@luaipc/filelike';
import { onAbort } from '@luaipc/native/abort';
import {
  checkInteger,
  checkName,
  checkTimeout,
  type WaitOptions,
  waitArgs,
} from '@luaipc/native/args';
import { addon, type NativeSemaphore } from './binding.js';

export { IpcError, type WaitOptions };

/** The largest value a semaphore can hold on this OS (`SEM_VALUE_MAX`). */
export const SEM_VALUE_MAX: number = addon.SEM_VALUE_MAX;

const CONSTRUCT = Symbol('Semaphore');
let nextId = 1;

/**
 * A handle on a named counting semaphore shared between processes (LuaIPC's `ipc.sem`).
 * Get one with {@link open}.
 */
export class Semaphore implements Disposable {
  /** The name given to {@link open} (the OS object is `'/' + name` on POSIX). */
  readonly name: string;
  /** Whether this handle created the semaphore; its `close()` then removes the name. */
  readonly creator: boolean;
  readonly #native: NativeSemaphore;

  /** @internal Handles come from {@link open}. */
  constructor(token: symbol, name: string, creator: boolean, handle: NativeSemaphore) {
    if (token !== CONSTRUCT) throw illegalConstructor('Semaphore handles are made by open()');
    this.name = name;
    this.creator = creator;
    this.#native = handle;
  }

  /** Whether {@link close} was called (or the handle was closed at teardown). */
  get closed(): boolean {
    return this.#native.closed;
  }

  /** Increments the value, waking one waiter. Throws `IpcError` `EOVERFLOW` at SEM_VALUE_MAX. */
  inc(): void {
    // The addon throws the closed-handle error itself (ERR_IPC_CLOSED, luaipc::Handle).
    this.#native.inc();
  }

  /** Decrements the value if it is above zero; never waits. Returns whether it did. */
  tryDec(): boolean {
    return this.#native.tryDec();
  }

  /**
   * Decrements the value, blocking the thread until it can (the only blocking call of this
   * package). `timeout` in seconds, fractions allowed; absent or negative: no limit; `0`: just
   * try. Returns `false` when the timeout elapses first. In a worker, `terminate()` (or the
   * process exiting) ends the wait within 100 ms without taking a count.
   */
  decSync(timeout?: number): boolean {
    const t = checkTimeout(timeout);
    return this.#native.decSync(t, !isMainThread) ?? false;
  }

  /**
   * Decrements the value without blocking the event loop: the wait runs on a thread of ours.
   * Resolves `true` once decremented, `false` when the timeout elapses first (absent or
   * negative: no limit; `0`: just try). Takes `(timeout?, options?)` or `(options)` with
   * `{ timeout?, signal? }`. Rejects with `signal.reason` when aborted and with `IpcError`
   * `ECANCELED` when the handle is closed meanwhile; argument errors reject too. Each pending
   * `dec()` honours its own timeout and signal, whatever other waits on the handle do.
   */
  dec(timeout?: number, options?: WaitOptions): Promise<boolean>;
  dec(options: WaitOptions): Promise<boolean>;
  dec(timeoutOrOptions?: number | WaitOptions, options?: WaitOptions): Promise<boolean> {
    try {
      const { timeout, signal } = waitArgs(timeoutOrOptions, options);
      if (signal?.aborted) return Promise.reject(signal.reason);
      const handle = this.#native;
      if (signal === undefined) {
        const result = handle.dec(timeout, 0);
        return typeof result === 'boolean' ? Promise.resolve(result) : result;
      }
      const id = nextId;
      nextId = nextId >= 0xffffffff ? 1 : nextId + 1;
      const result = handle.dec(timeout, id);
      if (typeof result === 'boolean') return Promise.resolve(result);
      const forget = onAbort(signal, () => {
        handle.cancel(id, signal.reason);
      });
      return result.finally(forget);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Closes the handle; idempotent. Pending `dec()` calls reject with `IpcError` `ECANCELED`.
   * The creator's close also removes the name, if it still names the semaphore this handle
   * created (LuaIPC semantics): handles already open keep working, new `open(name)` calls fail
   * with `ENOENT`.
   */
  close(): void {
    this.#native.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Opens the semaphore `name` (LuaIPC's `sem.open`). With `n > 0`, creates it with value `n`
 * (mode 0600), failing with `IpcError` `EEXIST` if it exists; with `n` absent or `0`, opens an
 * existing one, failing with `ENOENT` if there is none. `name` is not a path: non-empty,
 * without '/', at most 251 bytes on Linux (30 to be portable to macOS).
 */
export function open(name: string, n?: number): Semaphore {
  checkName(name, 'sem_open', addon.NAME_MAX);
  const count = n === undefined ? 0 : checkInteger(n, 'n', 0, SEM_VALUE_MAX);
  return new Semaphore(CONSTRUCT, name, count > 0, new addon.Semaphore(name, count));
}

/**
 * Removes the semaphore name `name` (`sem_unlink`), e.g. one leaked by a crashed creator; open
 * handles keep working. Throws `IpcError` `ENOENT` when there is no such semaphore.
 */
export function unlink(name: string): void {
  checkName(name, 'sem_unlink', addon.NAME_MAX);
  addon.unlink(name);
}
