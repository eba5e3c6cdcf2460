import { markAsUntransferable } from 'node:worker_threads';
import { closedError } from './errors.js';
import { type Encoding, FileLike, type FileLikeOptions, type Mode } from './filelike.js';
import { MappedStore, type Pager } from './store.js';

/**
 * The native side of a handle that is one memory mapping (shm's `Segment`, mmap's `MappedFile`:
 * `luaipc::MappedHandle` in `@luaipc/build`'s `luaipc/mapping.h`).
 */
export interface NativeMapping {
  readonly closed: boolean;
  /**
   * Start address of the mapping. Once asked for, the mapping stays until the handle is
   * collected (native code may hold the address).
   */
  addr(): bigint;
  /**
   * The handle's own ArrayBuffer over the mapping (the same one each time), for its store: never
   * handed to user code, holds no reference to the mapping, and `close()` detaches it.
   */
  view(): ArrayBuffer;
  /**
   * The user's external ArrayBuffer over the mapping (the same one while it is alive). It keeps
   * the mapping until it is collected, whether or not the handle was closed; never detached.
   */
  arrayBuffer(): ArrayBuffer;
  /** Whether the fault handler replaced lost pages of the mapping (the object shrank). */
  truncated(): boolean;
  /**
   * Ends the handle and detaches its view; the memory goes now, or once no user's ArrayBuffer
   * over it is left (and, after `addr()`, the handle is collected). Idempotent.
   */
  close(): void;
}

export interface MappedHandleOptions {
  mode: Mode;
  encoding: Encoding;
  /** The addon's fault epoch (`faultEpoch`), bumped after each repair of any mapping. */
  epoch: Uint32Array;
  /** The name or file, for errors. */
  path: string;
  /** See {@link FileLikeOptions.readAhead}. */
  readAhead?: boolean;
  /** Called by `flush()` with the handle's store (mmap checks it and syncs the mapping). */
  onFlush?: (store: MappedStore) => void;
  /**
   * How line reads in order tell the OS about the mapping (mmap): the page size and
   * `advise(ADVISE_AHEAD | ADVISE_PASSED, offset, length)`, where passed pages leave the process
   * and are read back when touched again, keeping writes through a shared mapping but not those
   * into a private one's copy-on-write pages.
   */
  advise?: { pageSize: number; call: (advice: number, offset: number, length: number) => void };
  /**
   * The mapping is private (copy-on-write, mmap's `'r'`): once user code could write into it
   * (`buffer` or `addr()` was handed out) its passed pages are no longer let go of.
   */
  copyOnWrite?: boolean;
}

/** `advise` codes (mmap_os.h's LUAIPC_MMAP_AHEAD and LUAIPC_MMAP_PASSED). */
export const ADVISE_AHEAD = 1;
export const ADVISE_PASSED = 2;

const MARK_UNTRANSFERABLE = Number(process.versions.node.split('.')[0]) < 22;

/**
 * A Lua file handle over one memory mapping, with zero-copy access through
 * {@link MappedHandle.buffer} and {@link MappedHandle.addr}: what shm's `SharedMemory` and
 * mmap's `MappedFile` have in common. Their factories make it; closing it (or its collection)
 * lets go of the mapping, which stays while a Buffer the user took from it lives.
 *
 * The handle reads and writes through an ArrayBuffer of its own that user code never sees, and
 * that `close()` detaches: so a handle whose `buffer` was never taken unmaps its memory in
 * `close()` itself, whatever views its reads left behind.
 */
export class MappedHandle<T extends string | Buffer = string> extends FileLike<T> {
  readonly #native: NativeMapping;
  readonly #store: MappedStore;
  #buffer: Buffer | undefined;
  /** Whether `buffer` or `addr()` was ever handed out: user code may have written the memory. */
  #exposed = false;

  protected constructor(native: NativeMapping, options: MappedHandleOptions) {
    const { epoch, path, onFlush, advise, copyOnWrite = false, ...rest } = options;
    let pager: Pager | undefined;
    if (advise !== undefined) {
      const { pageSize, call } = advise;
      pager = {
        pageSize,
        ahead: (offset, length) => call(ADVISE_AHEAD, offset, length),
        passed: (offset, length) => {
          // Letting go of a private page drops what was written into it.
          if (copyOnWrite && this.#exposed) return;
          call(ADVISE_PASSED, offset, length);
        },
      };
    }
    const store = new MappedStore(
      native.view(),
      { epoch, truncated: () => native.truncated() },
      path,
      pager,
    );
    super(store, {
      ...rest,
      onFlush: onFlush && (() => onFlush(store)),
      onClose: () => {
        store.release();
        this.#buffer = undefined;
        native.close();
      },
    });
    this.#native = native;
    this.#store = store;
  }

  /**
   * A Buffer over the whole mapping (not only the logical `size()`), without copying; the same
   * Buffer each time. Writes through a shared mapping are seen by every process that maps the
   * same memory. After `close()` this getter throws, but a Buffer taken earlier stays valid and
   * shared: the memory is unmapped once the handle is closed and every Buffer over it has been
   * collected. A handle whose `buffer` was never taken unmaps its memory in `close()`.
   */
  get buffer(): Buffer {
    if (this.closed) throw closedError('file');
    this.#exposed = true;
    if (this.#buffer === undefined) {
      const mapping = this.#native.arrayBuffer();
      // Transferring the ArrayBuffer to another thread would detach it under every Buffer over
      // it. Node 22+ refuses to transfer external ArrayBuffers by itself, and there marking one
      // aborts the process at exit while it is alive: mark on Node 20 only.
      if (MARK_UNTRANSFERABLE) markAsUntransferable(mapping);
      this.#buffer = Buffer.from(mapping);
    }
    return this.#buffer;
  }

  /**
   * Whether another process shrank the object under this mapping (seen when a lost page was
   * touched). Then `read`, `lines` and `write` (and mmap's `flush`) throw `IpcError` `ENXIO`,
   * and the lost part of {@link buffer} reads as zeros. Throws after `close()`.
   */
  get truncated(): boolean {
    if (this.closed) throw closedError('file');
    return this.#store.truncated;
  }

  /**
   * The start address of the mapping in this process, for FFI users (LuaIPC's `h:addr()`).
   * Native code may keep using the address after `close()`: once it was asked for, the memory
   * stays mapped until the handle itself is collected.
   */
  addr(): bigint {
    if (this.closed) throw closedError('file');
    this.#exposed = true;
    return this.#native.addr();
  }
}
