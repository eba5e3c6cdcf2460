import { constants as bufferConstants } from 'node:buffer';
import { markAsUntransferable } from 'node:worker_threads';
import { type DataOf, type Encoding, FileLike, IpcError, MemoryStore } from '@luaipc/filelike';
import { checkName, describeValue } from '@luaipc/native/args';
import { type NativeSegment, native } from './binding.js';

export {
  type Encoding,
  FileLike,
  IpcError,
  type ReadFormat,
  type ReadValue,
  type SeekWhence,
  type WriteValue,
} from '@luaipc/filelike';

export interface ShmOptions<E extends Encoding = Encoding> {
  /** What string reads return: `'utf8'` (default), byte-exact `'latin1'`, or `'buffer'`. */
  encoding?: E;
}

/**
 * The largest segment a handle can map: the longest Buffer Node allows (4 GiB on Node 20),
 * far below `Number.MAX_SAFE_INTEGER`.
 */
export const MAX_SIZE: number = bufferConstants.MAX_LENGTH;

const ENCODINGS: readonly string[] = ['utf8', 'latin1', 'buffer'];
const EMPTY = Buffer.alloc(0);
const CONSTRUCT = Symbol('SharedMemory');

/** Names follow LuaIPC: not a path; the OS name is '/' + name. */
function checkShmName(name: unknown, syscall: string): string {
  return checkName(name, syscall, native().NAME_MAX, IpcError);
}

function checkSize(size: unknown): number {
  if (typeof size !== 'number') {
    throw new TypeError(
      `The "size" argument must be of type number. Received ${describeValue(size)}`,
    );
  }
  if (!Number.isInteger(size) || size < 1 || size > MAX_SIZE) {
    throw new RangeError(
      `The value of "size" is out of range. It must be an integer >= 1 and <= ${MAX_SIZE}. Received ${String(size)}`,
    );
  }
  return size;
}

function checkOptions(options: unknown): Encoding {
  if (options === undefined) return 'utf8';
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(
      `The "options" argument must be of type object. Received ${describeValue(options)}`,
    );
  }
  const { encoding = 'utf8' } = options as ShmOptions;
  if (!ENCODINGS.includes(encoding)) {
    throw new TypeError(
      `The "options.encoding" property must be one of 'utf8', 'latin1', 'buffer'. Received ${describeValue(encoding)}`,
    );
  }
  return encoding;
}

/** The FileLike store over the mapping, which lets go of its Buffer when the handle closes. */
class MappingStore extends MemoryStore {
  /**
   * After close() the Buffer is detached, but while anything references it the address range
   * stays reserved (see binding.cc): a closed handle the program keeps around must not be
   * what holds it.
   */
  release(): void {
    (this as { bytes: Buffer }).bytes = EMPTY;
  }
}

/**
 * A handle to a named shared memory segment: a Lua file handle over the mapping (every
 * {@link FileLike} method: `read`, `lines`, `write`, `seek`, `setvbuf`, `flush`, `size`,
 * `truncate`, `close`) plus zero-copy access through {@link SharedMemory.buffer} and
 * {@link SharedMemory.addr}. Get one from {@link create} or {@link attach}.
 *
 * `T` is what string reads return: `string` (encodings `'utf8'`, `'latin1'`) or `Buffer`.
 */
export class SharedMemory<T extends string | Buffer = string> extends FileLike<T> {
  /** The segment's name as given to `create`/`attach` (the OS name is `'/' + name`). */
  readonly name: string;
  /** Whether this handle created the segment; its `close()` then removes the name. */
  readonly creator: boolean;
  readonly #segment: NativeSegment;
  readonly #store: MappingStore;

  /** @internal Handles come from {@link create} and {@link attach}. */
  constructor(
    token: symbol,
    segment: NativeSegment,
    name: string,
    encoding: Encoding,
    creator: boolean,
  ) {
    if (token !== CONSTRUCT) {
      throw new TypeError('SharedMemory handles are made by create() and attach()');
    }
    const arrayBuffer = segment.arrayBuffer();
    // Transferring the memory to another thread would detach it here without unmapping it,
    // and unmapping it later would pull it from under that thread: copy it instead.
    markAsUntransferable(arrayBuffer);
    const store = new MappingStore(Buffer.from(arrayBuffer));
    super(store, {
      mode: 'rw',
      encoding,
      onClose: () => {
        segment.close();
        store.release();
      },
    });
    this.#segment = segment;
    this.#store = store;
    this.name = name;
    this.creator = creator;
  }

  /** Removes the name `name` (for one leaked by a crashed creator); see {@link unlink}. */
  static unlink(name: string): void {
    unlink(name);
  }

  /**
   * A Buffer over the whole mapping (not only the logical `size()`), without copying: writes
   * through it are seen by every process that attached. On `close()` the memory behind it is
   * detached: this getter throws, and a Buffer taken earlier has length 0.
   */
  get buffer(): Buffer {
    if (this.closed) throw new TypeError('attempt to use a closed file');
    return this.#store.bytes;
  }

  /** The start address of the mapping in this process, for FFI users (LuaIPC's `h:addr()`). */
  addr(): bigint {
    if (this.closed) throw new TypeError('attempt to use a closed file');
    return this.#segment.addr();
  }
}

function open<E extends Encoding>(
  segment: NativeSegment,
  name: string,
  encoding: Encoding,
  creator: boolean,
): SharedMemory<DataOf<E>> {
  try {
    return new SharedMemory<DataOf<E>>(CONSTRUCT, segment, name, encoding, creator);
  } catch (e) {
    segment.close();
    throw e;
  }
}

/**
 * Creates the shared memory segment `name` of `size` bytes (zero-filled, mode 0600) and returns
 * a handle to it. Fails with `IpcError` `EEXIST` when the name exists. The creator's `close()`
 * (or its collection by GC) removes the name; processes that attached keep their mapping.
 */
export function create(name: string, size: number): SharedMemory<string>;
export function create<E extends Encoding = 'utf8'>(
  name: string,
  size: number,
  options: ShmOptions<E>,
): SharedMemory<DataOf<E>>;
export function create<E extends Encoding>(
  name: string,
  size: number,
  options?: ShmOptions<E>,
): SharedMemory<DataOf<E>> {
  checkShmName(name, 'shm_open');
  checkSize(size);
  const encoding = checkOptions(options);
  return open<E>(new (native().Segment)(name, size, true), name, encoding, true);
}

/**
 * Attaches to the existing segment `name` and maps all of it: `size()` is its current size as
 * the OS reports it (on Linux exactly what the creator asked for; on macOS rounded up to whole
 * pages). Fails with `IpcError` `ENOENT` when there is no such segment.
 */
export function attach(name: string): SharedMemory<string>;
export function attach<E extends Encoding = 'utf8'>(
  name: string,
  options: ShmOptions<E>,
): SharedMemory<DataOf<E>>;
export function attach<E extends Encoding>(
  name: string,
  options?: ShmOptions<E>,
): SharedMemory<DataOf<E>> {
  checkShmName(name, 'shm_open');
  const encoding = checkOptions(options);
  return open<E>(new (native().Segment)(name, MAX_SIZE, false), name, encoding, false);
}

/**
 * Removes the name `name`, e.g. one leaked by a crashed creator. Handles already open keep
 * working; the memory is freed when the last one closes. Fails with `IpcError` `ENOENT` when
 * there is no such segment.
 */
export function unlink(name: string): void {
  checkShmName(name, 'shm_unlink');
  native().unlink(name);
}
