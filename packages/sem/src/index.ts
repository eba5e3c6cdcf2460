import { IpcError } from '@luaipc/filelike';
import { checkName, describeValue } from '@luaipc/native/args';
import { type NativeSemaphore, native } from './binding.js';

export { IpcError };

/** Options of {@link Semaphore.dec}. */
export interface DecOptions {
  /** Aborting rejects the pending `dec()` with `signal.reason` (an `AbortError` by default). */
  signal?: AbortSignal;
}

let nextId = 1;

/** Checks a semaphore name and returns the OS name (`'/' + name`). */
function osName(name: unknown, syscall: string): string {
  return `/${checkName(name, syscall, native().NAME_MAX, IpcError)}`;
}

/** `undefined`, negative or infinite: -1 (forever); else seconds. */
function checkTimeout(timeout: unknown): number {
  if (timeout === undefined) return -1;
  if (typeof timeout !== 'number') {
    throw new TypeError(
      `The "timeout" argument must be of type number. Received ${describeValue(timeout)}`,
    );
  }
  if (Number.isNaN(timeout)) throw new RangeError('The "timeout" argument must not be NaN');
  if (timeout < 0 || timeout === Number.POSITIVE_INFINITY) return -1;
  return timeout;
}

function checkSignal(options: unknown): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object') {
    throw new TypeError(
      `The "options" argument must be of type object. Received ${describeValue(options)}`,
    );
  }
  const { signal } = options as DecOptions;
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) {
    throw new TypeError(
      `The "options.signal" property must be an instance of AbortSignal. Received ${describeValue(signal)}`,
    );
  }
  return signal;
}

/**
 * A handle on a named counting semaphore shared between processes (LuaIPC's `ipc.sem`).
 * Get one with {@link open}.
 */
export class Semaphore implements Disposable {
  /** The name given to {@link open} (the OS object is `'/' + name`). */
  readonly name: string;
  #native: NativeSemaphore;

  /** @internal Use {@link open}. */
  constructor(name: string, handle: NativeSemaphore) {
    this.name = name;
    this.#native = handle;
  }

  /** Removes the name `name` (for one leaked by a crashed creator). Throws `ENOENT` if absent. */
  static unlink(name: string): void {
    unlink(name);
  }

  /** Whether {@link close} was called (or the handle was closed at teardown). */
  get closed(): boolean {
    return this.#native.closed;
  }

  #open(): NativeSemaphore {
    if (this.#native.closed) throw new TypeError('Semaphore is closed');
    return this.#native;
  }

  /** Increments the value, waking one waiter. Throws `IpcError` `EOVERFLOW` at SEM_VALUE_MAX. */
  inc(): void {
    this.#open().inc();
  }

  /** Decrements the value if it is above zero; never waits. */
  tryDec(): boolean {
    return this.#open().tryDec();
  }

  /**
   * Decrements the value, blocking the thread until it can (the only blocking call of this
   * package). `timeout` in seconds, fractions allowed; absent or negative: no limit; `0`: just try.
   * Returns `false` when the timeout elapses first.
   */
  decSync(timeout?: number): boolean {
    const t = checkTimeout(timeout);
    return this.#open().decSync(t);
  }

  /**
   * Decrements the value without blocking the event loop: the wait runs on a thread of this
   * handle. Resolves `true` once decremented, `false` when `timeout` seconds elapse first
   * (absent or negative: no limit; `0`: just try). Rejects with `options.signal.reason` when
   * aborted and with `IpcError` `ECANCELED` when the handle is closed meanwhile; argument errors
   * reject too. Several pending `dec()` calls on one handle are served in call order.
   */
  dec(timeout?: number, options?: DecOptions): Promise<boolean> {
    try {
      const t = checkTimeout(timeout);
      const signal = checkSignal(options);
      if (signal?.aborted) return Promise.reject(signal.reason);
      const handle = this.#open();
      if (signal === undefined) {
        const result = handle.dec(t, 0);
        return typeof result === 'boolean' ? Promise.resolve(result) : result;
      }
      const id = nextId;
      nextId = nextId >= 0xffffffff ? 1 : nextId + 1;
      const result = handle.dec(t, id);
      if (typeof result === 'boolean') return Promise.resolve(result);
      const onAbort = (): void => {
        handle.cancel(id, signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      return result.finally(() => signal.removeEventListener('abort', onAbort));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Closes the handle; idempotent. Pending `dec()` calls reject with `IpcError` `ECANCELED`.
   * The creator's close also removes the name (LuaIPC semantics): handles already open keep
   * working, new `open(name)` calls fail with `ENOENT`.
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
  const os = osName(name, 'sem_open');
  let count = 0;
  if (n !== undefined) {
    if (typeof n !== 'number') {
      throw new TypeError(`The "n" argument must be of type number. Received ${describeValue(n)}`);
    }
    const max = native().SEM_VALUE_MAX;
    if (!Number.isInteger(n) || n < 0 || n > max) {
      throw new RangeError(
        `The value of "n" is out of range. It must be an integer >= 0 and <= ${max}. Received ${String(n)}`,
      );
    }
    count = n;
  }
  const Native = native().Semaphore;
  return new Semaphore(name, new Native(os, name, count));
}

/** Removes the semaphore name `name` (`sem_unlink`); open handles keep working. */
export function unlink(name: string): void {
  native().unlink(osName(name, 'sem_unlink'), name);
}

/** The largest value a semaphore can hold on this OS (SEM_VALUE_MAX). */
export function valueMax(): number {
  return native().SEM_VALUE_MAX;
}
