import { IpcError } from '@luaipc/filelike';
import { loadAddon } from '@luaipc/native/load';

/** One mapped segment, owned by the addon (see src/native/binding.cc). */
export interface NativeSegment {
  readonly closed: boolean;
  /** Start address of the mapping. */
  addr(): bigint;
  /** An external ArrayBuffer over the mapping (the same one on every call); detached by close. */
  arrayBuffer(): ArrayBuffer;
  /** Detaches the ArrayBuffer, unmaps, and unlinks the name if this handle created it. Idempotent. */
  close(): void;
}

export interface ShmAddon {
  /** Longest name in bytes the OS accepts (without the leading '/'). */
  readonly NAME_MAX: number;
  /**
   * `create`: creates `name` with `size` bytes; otherwise attaches to `name`, failing `EFBIG`
   * when it is larger than `size`.
   */
  Segment: new (
    name: string,
    size: number,
    create: boolean,
  ) => NativeSegment;
  unlink(name: string): void;
}

let addon: ShmAddon | undefined;

/** The addon, loaded on first use so that importing the package never fails by itself. */
export function native(): ShmAddon {
  if (addon === undefined) {
    addon = loadAddon<ShmAddon>({ name: 'shm', from: import.meta.url, IpcError });
  }
  return addon;
}
