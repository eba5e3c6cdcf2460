import { loadAddon } from '@luaipc/native/load';

/** Thread-backed waits of `lock()`; one per JS environment. */
export interface NativeLocker {
  /** A boolean when settled at once on the JS thread, else a promise. timeout < 0: forever. */
  lock(
    fd: number,
    exclusive: boolean,
    start: number,
    len: number,
    timeout: number,
    id: number,
  ): boolean | Promise<boolean>;
  cancel(id: number, reason: unknown): boolean;
  close(): void;
  readonly closed: boolean;
}

/** The addon's surface; every argument is already checked by index.ts. */
export interface Addon {
  Locker: new () => NativeLocker;
  trylock(fd: number, exclusive: boolean, start: number, len: number): boolean;
  /** timeout < 0: forever. `undefined` when the worker's env is being torn down meanwhile. */
  lockSync(
    fd: number,
    exclusive: boolean,
    start: number,
    len: number,
    timeout: number,
    inWorker: boolean,
  ): boolean | undefined;
  unlock(fd: number, start: number, len: number): void;
  /**
   * What `fd` is, for the message of an EBADF: `kind` (`'file'` for a regular file,
   * `'directory'`, `'pipe'`, ...), how it is open where that decides what it can lock, its path
   * where the OS tells it. `undefined` when `fd` is not open.
   */
  describe(
    fd: number,
  ): { kind: string; readable?: boolean; writable?: boolean; path?: string } | undefined;
  /** Whether this build uses open-file-description locks (else classic POSIX locks). */
  readonly OFD: boolean;
}

export const addon: Addon = loadAddon<Addon>({ name: 'filelock', from: import.meta.url });
