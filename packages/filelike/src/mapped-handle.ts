import { closedError } from './errors.js';
import { type Encoding, FileLike, type FileLikeOptions, type Mode } from './filelike.js';
import { MappedStore } from './store.js';

/**
 * The native side of a handle that is one memory mapping (shm's `Segment`, mmap's `MappedFile`:
 * `luaipc::MappedHandle` in `@luaipc/native`'s `luaipc/mapping.h`).
 */
export interface NativeMapping {
  readonly closed: boolean;
  /** Start address of the mapping. */
  addr(): bigint;
  /**
   * The external ArrayBuffer over the mapping (the same one while it is alive). It keeps the
   * mapping until it is collected, whether or not the handle was closed.
   */
  arrayBuffer(): ArrayBuffer;
  /** Whether the fault handler replaced lost pages of the mapping (the object shrank). */
  truncated(): boolean;
  /** Ends the handle; the memory goes once no ArrayBuffer over it is left. Idempotent. */
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
}

/**
 * A Lua file handle over one memory mapping, with zero-copy access through
 * {@link MappedHandle.buffer} and {@link MappedHandle.addr}: what shm's `SharedMemory` and
 * mmap's `MappedFile` have in common. Their factories make it; closing it (or its collection)
 * lets go of the mapping, which stays while a Buffer over it lives.
 */
export class MappedHandle<T extends string | Buffer = string> extends FileLike<T> {
  readonly #native: NativeMapping;
  readonly #store: MappedStore;

  protected constructor(native: NativeMapping, options: MappedHandleOptions) {
    const { epoch, path, onFlush, ...rest } = options;
    const store = new MappedStore(
      native.arrayBuffer(),
      { epoch, truncated: () => native.truncated() },
      path,
    );
    super(store, {
      ...rest,
      onFlush: onFlush && (() => onFlush(store)),
      onClose: () => {
        // The memory stays mapped while Buffers from it live; a closed handle the program
        // keeps must not be what holds it.
        store.release();
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
   * collected.
   */
  get buffer(): Buffer {
    if (this.closed) throw closedError('file');
    return this.#store.bytes;
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

  /** The start address of the mapping in this process, for FFI users (LuaIPC's `h:addr()`). */
  addr(): bigint {
    if (this.closed) throw closedError('file');
    return this.#native.addr();
  }
}
