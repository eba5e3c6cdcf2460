/**
 * Lua 5.4 file-handle semantics (`read('n', 'l', ...)`, `lines`, `write`, `seek`) over a byte
 * buffer, and `IpcError`, the error every `@luaipc` package throws for OS failures.
 *
 * @packageDocumentation
 */
export {
  closedError,
  describeValue,
  IpcError,
  type IpcErrorDetails,
  illegalConstructor,
  invalidArgType,
  invalidArgValue,
  outOfRange,
  withCode,
} from './errors.js';
export {
  type BufferMode,
  checkEncoding,
  type DataOf,
  type Encoding,
  FileLike,
  type FileLikeOptions,
  type Mode,
  type ReadFormat,
  type ReadValue,
  type SeekWhence,
  type WriteValue,
} from './filelike.js';
export { formatNumber } from './format.js';
export { MappedHandle, type MappedHandleOptions, type NativeMapping } from './mapped-handle.js';
export {
  type ByteStore,
  MappedStore,
  type MappingProbe,
  MemoryStore,
  TRUNCATED_CODE,
} from './store.js';
