/**
 * Named shared memory: `create(name, size)`, `attach(name)`, a Lua file handle and a zero-copy
 * `buffer` over the segment (LuaIPC's `shm`).
 *
 * @packageDocumentation
 */
import { constants as bufferConstants } from 'node:buffer';
import {
  checkEncoding,
  type DataOf,
  type Encoding,
  illegalConstructor,
  invalidArgValue,
  MappedHandle,
  type NativeMapping,
} from '@luaipc/filelike';
import { checkName, checkOptions, checkSize } from '@luaipc/native/args';
import { addon } from './binding.js';

export {
  type Encoding,
  FileLike,
  IpcError,
  type ReadFormat,
  type ReadValue,
  type SeekWhence,
  TRUNCATED_CODE,
  type WriteValue,
} from '@luaipc/filelike';

export interface ShmOptions<E extends Encoding = Encoding> {
  /** What string reads return: `'utf8'` (default), byte-exact `'latin1'`, or `'buffer'`. */
  encoding?: E;
}

/**
 * The largest segment a handle can map: the longest Buffer Node allows (4 GiB on Node 20,
 * 2^53 - 1 bytes from Node 22, far more than any machine's memory).
 */
export const MAX_SIZE: number = bufferConstants.MAX_LENGTH;

const CONSTRUCT = Symbol('SharedMemory');

/**
 * Names follow LuaIPC (see `checkName`); the OS name is '/' + name. On Linux glibc keeps POSIX
 * semaphores as shm objects named `sem.<name>`, so such a name would reach a semaphore's
 * internals (and `unlink` would delete the semaphore): refused.
 */
function checkShmName(name: unknown, syscall: string): string {
  const checked = checkName(name, syscall, addon.NAME_MAX);
  if (process.platform === 'linux' && checked.startsWith('sem.')) {
    throw invalidArgValue(
      'name',
      checked,
      "must not start with 'sem.' (on Linux that is where POSIX semaphores live: shm names 'sem.<x>' are semaphore x)",
    );
  }
  return checked;
}

/**
 * A handle to a named shared memory segment: a Lua file handle over the mapping (every
 * {@link FileLike} method: `read`, `lines`, `write`, `seek`, `setvbuf`, `flush`, `size`,
 * `truncate`, `close`) plus zero-copy access through {@link SharedMemory.buffer} and
 * {@link SharedMemory.addr}. Get one from {@link create} or {@link attach}.
 *
 * `T` is what string reads return: `string` (encodings `'utf8'`, `'latin1'`) or `Buffer`.
 */
export class SharedMemory<T extends string | Buffer = string> extends MappedHandle<T> {
  /** The segment's name as given to `create`/`attach` (the OS name is `'/' + name`). */
  readonly name: string;
  /** Whether this handle created the segment; its `close()` then removes the name. */
  readonly creator: boolean;

  /** @internal Handles come from {@link create} and {@link attach}; user code gets a TypeError. */
  constructor(
    token: symbol,
    segment: NativeMapping,
    name: string,
    encoding: Encoding,
    creator: boolean,
  ) {
    if (token !== CONSTRUCT)
      throw illegalConstructor('SharedMemory handles are made by create() and attach()');
    super(segment, { mode: 'rw', encoding, epoch: addon.faultEpoch, path: name });
    this.name = name;
    this.creator = creator;
  }

  /** Removes the name `name` (for one leaked by a crashed creator); see {@link unlink}. */
  static unlink(name: string): void {
    unlink(name);
  }
}

function open<E extends Encoding>(
  segment: NativeMapping,
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
 * (or its collection by GC once no Buffer from it is left, or the process's end) removes the
 * name, if it still names this segment; processes that attached keep their mapping.
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
  checkSize(size, MAX_SIZE);
  const encoding = checkEncoding(checkOptions(options));
  return open<E>(new addon.Segment(name, size, true), name, encoding, true);
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
  const encoding = checkEncoding(checkOptions(options));
  return open<E>(new addon.Segment(name, MAX_SIZE, false), name, encoding, false);
}

/**
 * Removes the name `name`, e.g. one leaked by a crashed creator. Handles already open keep
 * working; the memory is freed when the last mapping goes. Fails with `IpcError` `ENOENT` when
 * there is no such segment.
 */
export function unlink(name: string): void {
  checkShmName(name, 'shm_unlink');
  addon.unlink(name);
}
