export { IpcError, type IpcErrorDetails } from './errors.js';
export {
  type BufferMode,
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
export { type ByteStore, MemoryStore } from './store.js';
