/**
 * `open(str)`: a read-only Lua file handle over a string or bytes (LuaIPC's `strfile`).
 *
 * @packageDocumentation
 */
import {
  checkEncoding,
  type DataOf,
  type Encoding,
  FileLike,
  invalidArgType,
} from '@luaipc/filelike';

export {
  type Encoding,
  FileLike,
  IpcError,
  type ReadFormat,
  type ReadValue,
  type SeekWhence,
} from '@luaipc/filelike';

export interface OpenOptions<E extends Encoding = Encoding> {
  /** What string reads return: `'utf8'` (default), byte-exact `'latin1'`, or `'buffer'`. */
  encoding?: E;
}

/**
 * Opens a read-only Lua file handle over `data`: a string (stored as UTF-8, or as latin1 bytes
 * when `encoding` is `'latin1'`) or bytes (viewed, not copied: do not change them while reading).
 * Writing throws `IpcError` `EBADF` ("permission denied"), as LuaIPC's strfile does.
 */
export function open<E extends Encoding = 'utf8'>(
  data: string | Uint8Array,
  options: OpenOptions<E> = {},
): FileLike<DataOf<E>> {
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw invalidArgType('data', 'of type string or an instance of Uint8Array', data);
  }
  if (typeof options !== 'object' || options === null) {
    throw invalidArgType('options', 'of type object', options);
  }
  const encoding = checkEncoding(options);
  const bytes =
    typeof data === 'string' ? Buffer.from(data, encoding === 'latin1' ? 'latin1' : 'utf8') : data;
  // The bytes must not change while reading (see above), so line reads may decode ahead.
  return new FileLike<DataOf<E>>(bytes, {
    mode: 'r',
    encoding,
    immutable: true,
  });
}
