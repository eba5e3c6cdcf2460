import { loadAddon } from '@luaipc/native/load';

/** The event kinds, as `EventKind` in native/proc_core.h numbers them. */
export const Kind = { Data: 0, End: 1, Error: 2, Exit: 3, More: 4 } as const;

/** 1 stdout, 2 stderr. */
export type OutputStream = 1 | 2;

/**
 * How index.ts hears from the addon: one call `dispatch(...event)` per event, its arguments
 * one of these (mirrors `EventKind` in native/proc_core.h).
 */
export type ProcEvent =
  /** Output bytes. */
  | [kind: typeof Kind.Data, stream: OutputStream, bytes: Buffer]
  /** That stream ended. */
  | [kind: typeof Kind.End, stream: OutputStream]
  /** Reading that stream failed with `errno` (it ended too). */
  | [kind: typeof Kind.Error, stream: OutputStream, errno: number]
  /** The child was reaped (`errno` not 0: reaping failed with it). */
  | [kind: typeof Kind.Exit, errno: number, signaled: boolean, code: number]
  /**
   * More is queued than one dispatch hands over: call `drain()` once the event loop has had its
   * turn.
   */
  | [kind: typeof Kind.More];

export type Dispatch = (...event: ProcEvent) => void;

/** The addon's surface; every argument is already checked by index.ts. */
export interface NativeProcess {
  readonly pid: number;
  write(chunk: string | Uint8Array): void;
  end(): void;
  kill(signal: number): void;
  /** Hands the next batch of queued events to dispatch (after a `Kind.More`). */
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

/**
 * How to start a child, read by name into `luaipc_proc_options` (native/proc_os.h) by
 * `SpawnOptions` in native/binding.cc.
 */
export interface NativeSpawnOptions {
  /** The program (a path, or a name looked up in `searchPath`); with `shell`, the command line. */
  file: string;
  /** Where a bare `file` is looked up (null: the default path). */
  searchPath: string | null;
  /** argv[0] included; unused with `shell`. */
  argv: string[];
  /** `KEY=value` strings (null: this process's environment). */
  env: string[] | null;
  cwd: string | null;
  stdio: [number, number, number];
  /** `file` is run by the system's shell (`/bin/sh -c`, on Windows `cmd.exe /d /s /c`). */
  shell: boolean;
  /** A process group (on Windows a Job) of its own. */
  group: boolean;
}

export interface Addon {
  Process: new (
    options: NativeSpawnOptions,
    dispatch: Dispatch,
    /** Largest Buffer one call gets (0: no limit). */
    maxChunk: number,
  ) => NativeProcess;
}

export const addon: Addon = loadAddon<Addon>({ name: 'proc', from: import.meta.url });
