/**
 * Memory-mapped files: `open(path, mode?, offset?, size?)`, `pagesize`, a Lua file handle and a
 * zero-copy `buffer` over the mapping (LuaIPC's `mmap`).
 *
 * @packageDocumentation
 */
import { constants as bufferConstants } from 'node:buffer';
import type { PathLike } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  checkEncoding,
  type DataOf,
  type Encoding,
  illegalConstructor,
  invalidArgType,
  invalidArgValue,
  MappedHandle,
  outOfRange,
} from '@luaipc/filelike';
import { checkInteger, checkOptions, checkSize } from '@luaipc/native/args';
import { addon, MODE_BITS, type NativeMappedFile } from './binding.js';

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

/**
 * LuaIPC's modes: `'r'` maps the file privately (copy-on-write: the handle only reads, and bytes
 * written into {@link MappedFile.buffer} stay in this process); `'w'` and `'rw'` map it shared,
 * so writes reach the file and every process that maps it. A `'w'` handle only writes (its Lua
 * reads throw `EBADF`), as in LuaIPC; its `buffer` can still be read.
 */
export type MapMode = 'r' | 'w' | 'rw';

/**
 * What `open` accepts as a path, as `node:fs` does: a string, a Buffer or Uint8Array (the bytes
 * of the name) or a `file:` URL.
 */
export type MapPath = PathLike | Uint8Array;

export interface MmapOptions<E extends Encoding = Encoding> {
  /** What string reads return: `'utf8'` (default), byte-exact `'latin1'`, or `'buffer'`. */
  encoding?: E;
}

/**
 * The largest mapping a handle can view: the longest Buffer Node allows (4 GiB on Node 20,
 * 2^53 - 1 bytes from Node 22). Map a larger file piece by piece, with `offset` and `size`.
 */
export const MAX_SIZE: number = bufferConstants.MAX_LENGTH;

/**
 * What `offset` must be a multiple of (LuaIPC's `mmap.pagesize`): the page size on POSIX
 * systems (4096 on x64 Linux, 16384 on Apple silicon), the allocation granularity on Windows
 * (65536). Read from the OS when the package is imported.
 */
export const pagesize: number = addon.pagesize;

const CONSTRUCT = Symbol('MappedFile');

const MODES: readonly string[] = ['r', 'w', 'rw'];

/**
 * A handle to a memory-mapped file: a Lua file handle over the mapping (every {@link FileLike}
 * method: `read`, `lines`, `write`, `seek`, `setvbuf`, `flush`, `size`, `truncate`, `close`) plus
 * zero-copy access through {@link MappedFile.buffer} and {@link MappedFile.addr}. Get one from
 * {@link open}.
 *
 * Line reads read ahead (up to 64 KiB, like a stdio read buffer), so `lines()` runs at the speed
 * of decoding; a `seek()`, `flush()` or `setvbuf()` drops what was read ahead, and
 * `setvbuf('no')` reads every line straight from the mapping. `T` is what string reads return:
 * `string` (encodings `'utf8'`, `'latin1'`) or `Buffer`.
 *
 * In `'w'`/`'rw'` mappings writes through {@link MappedFile.buffer} reach the file (`flush()`
 * waits until they are written) and every process that maps it; in an `'r'` mapping the pages
 * written through it become private copies that the file and other mappings never see.
 */
export class MappedFile<T extends string | Buffer = string> extends MappedHandle<T> {
  /** The file as given to `open` (a Buffer path decoded as UTF-8, a URL as its path). */
  readonly path: string;
  /** The mode it was mapped with. */
  readonly mode: MapMode;
  /** Where in the file the mapping starts. */
  readonly offset: number;

  /** @internal Handles come from {@link open}; user code gets a TypeError. */
  constructor(
    token: symbol,
    mapping: NativeMappedFile,
    path: string,
    mode: MapMode,
    offset: number,
    encoding: Encoding,
  ) {
    if (token !== CONSTRUCT) throw illegalConstructor('MappedFile handles are made by open()');
    super(mapping, {
      mode,
      encoding,
      epoch: addon.faultEpoch,
      path,
      readAhead: true,
      onFlush: (store) => {
        // Bytes written into lost pages went nowhere: flushing cannot claim they reached the file.
        store.check('msync');
        // A private mapping has nothing to write back.
        if (mode !== 'r') mapping.flush();
      },
    });
    this.path = path;
    this.mode = mode;
    this.offset = offset;
  }
}

function isUrl(value: object): value is URL {
  // node:fs's test: URL instances, and URL-like objects from other realms.
  const v = value as { href?: unknown; protocol?: unknown; auth?: unknown; path?: unknown };
  return (
    value instanceof URL ||
    (typeof v.href === 'string' &&
      typeof v.protocol === 'string' &&
      v.auth === undefined &&
      v.path === undefined)
  );
}

function nullBytes(path: unknown): TypeError {
  return invalidArgValue('path', path, 'must be a string, Uint8Array, or URL without null bytes');
}

/** The path as node:fs takes it: the bytes to open and the string errors show. */
function checkPath(path: unknown): { bytes: Buffer; shown: string } {
  if (typeof path === 'string') {
    if (path.includes('\0')) throw nullBytes(path);
    return { bytes: Buffer.from(path, 'utf8'), shown: path };
  }
  if (path instanceof Uint8Array) {
    if (path.includes(0)) throw nullBytes(path);
    const bytes = Buffer.from(path.buffer, path.byteOffset, path.byteLength);
    return { bytes: Buffer.from(bytes), shown: bytes.toString('utf8') };
  }
  if (path !== null && typeof path === 'object' && isUrl(path)) {
    // Node's own errors for other schemes, hosts and encoded slashes.
    const file = fileURLToPath(path);
    if (file.includes('\0')) throw nullBytes(path);
    return { bytes: Buffer.from(file, 'utf8'), shown: file };
  }
  throw invalidArgType('path', 'of type string or an instance of Buffer or URL', path);
}

function checkMode(mode: unknown): MapMode {
  if (mode === undefined) return 'r';
  if (typeof mode !== 'string' || !MODES.includes(mode)) {
    throw invalidArgValue('mode', mode, "must be one of 'r', 'w', 'rw'");
  }
  return mode as MapMode;
}

function checkOffset(offset: unknown): number {
  if (offset === undefined) return 0;
  checkInteger(offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
  const page = addon.pagesize;
  if ((offset as number) % page !== 0) {
    throw outOfRange('offset', `a multiple of pagesize (${page})`, offset);
  }
  return offset as number;
}

/**
 * Maps the file `path` and returns a handle to the mapping.
 *
 * - `mode`: `'r'` (default), `'w'` or `'rw'`, as in LuaIPC (see {@link MapMode}).
 * - `offset`: where the mapping starts in the file, a multiple of {@link pagesize} (else
 *   `RangeError` `ERR_OUT_OF_RANGE`); offsets past 4 GiB work.
 * - `size`: how many bytes to map, at most {@link MAX_SIZE}; `0` (default) maps from `offset`
 *   to the end of the file.
 * - `options.encoding`: what string reads return. The options object may also stand alone after
 *   any of the arguments above: `open(path, { encoding: 'latin1' })`.
 *
 * The mapping never changes the file's size. A zero-length file, an `offset` at or past the end
 * of the file, or `offset + size` past it throw `IpcError` `EINVAL` (syscall `'mmap'`, the file
 * in `path`); a file that does not exist `ENOENT` (`'open'`), a directory `EISDIR`, something
 * that cannot be mapped (a FIFO) `ENODEV`, a rest of the file longer than {@link MAX_SIZE} with
 * `size` 0 `EFBIG`, a mapping the address space refuses `ENOMEM`. The file descriptor is
 * closed before `open` returns.
 */
export function open(path: MapPath, mode?: MapMode, offset?: number, size?: number): MappedFile;
export function open<E extends Encoding = 'utf8'>(
  path: MapPath,
  options: MmapOptions<E>,
): MappedFile<DataOf<E>>;
export function open<E extends Encoding = 'utf8'>(
  path: MapPath,
  mode: MapMode | undefined,
  options: MmapOptions<E>,
): MappedFile<DataOf<E>>;
export function open<E extends Encoding = 'utf8'>(
  path: MapPath,
  mode: MapMode | undefined,
  offset: number | undefined,
  options: MmapOptions<E>,
): MappedFile<DataOf<E>>;
export function open<E extends Encoding = 'utf8'>(
  path: MapPath,
  mode: MapMode | undefined,
  offset: number | undefined,
  size: number | undefined,
  options?: MmapOptions<E>,
): MappedFile<DataOf<E>>;
export function open<E extends Encoding>(path: unknown, ...rest: unknown[]): MappedFile<DataOf<E>> {
  const args = rest.slice(0, 4);
  let options: unknown = args[3];
  args.length = 3;
  if (options === undefined) {
    // An options object right after the last argument given.
    let last = args.length - 1;
    while (last >= 0 && args[last] === undefined) last--;
    if (last >= 0 && args[last] !== null && typeof args[last] === 'object') {
      options = args[last];
      args[last] = undefined;
    }
  }
  const file = checkPath(path);
  const m = checkMode(args[0]);
  const off = checkOffset(args[1]);
  const length = args[2] === undefined ? 0 : checkSize(args[2], MAX_SIZE, 0);
  const encoding = checkEncoding(checkOptions(options));
  const mapping = new addon.MappedFile(file.bytes, file.shown, MODE_BITS[m], off, length, MAX_SIZE);
  try {
    return new MappedFile<DataOf<E>>(CONSTRUCT, mapping, file.shown, m, off, encoding);
  } catch (e) {
    mapping.close();
    throw e;
  }
}
