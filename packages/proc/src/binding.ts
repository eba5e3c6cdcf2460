import { loadAddon } from '@luaipc/native/load';

/**
 * How index.ts hears from the addon (see binding.cc):
 * `(0, stream, bytes)` output, `(1, stream)` end of a stream, `(2, stream, errno)` a read error,
 * `(3, errno, signaled, code)` the exit, `(4)` more is queued than one dispatch hands over:
 * call `drain()` once the event loop has had its turn.
 */
export type Dispatch = (kind: number, a: number, b?: Buffer | number | boolean, c?: number) => void;

/** The addon's surface; every argument is already checked by index.ts. */
export interface NativeProcess {
  readonly pid: number;
  write(chunk: string | Uint8Array): void;
  end(): void;
  kill(signal: number): void;
  /** Hands the next batch of queued events to dispatch (after a `(4)`). */
  drain(): void;
  /** Runs the I/O loop here until the exit has been dispatched. */
  waitSync(): void;
  /** Whether the child's thread keeps the event loop (and this handle) alive. */
  setKeepAlive(on: boolean): void;
  close(): void;
  readonly closed: boolean;
}

/** `stdio` entries: an fd to give the child, or one of these. */
export const INHERIT = -1;
export const PIPE = -2;

export interface Addon {
  Process: new (
    file: string,
    searchPath: string | null,
    argv: string[],
    env: string[] | null,
    cwd: string | null,
    stdio: [number, number, number],
    group: boolean,
    dispatch: Dispatch,
    /** Largest Buffer one call gets (0: no limit). */
    maxChunk: number,
  ) => NativeProcess;
}

export const addon: Addon = loadAddon<Addon>({ name: 'proc', from: import.meta.url });
