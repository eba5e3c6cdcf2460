import { loadAddon } from '@luaipc/native/load';

/** One mapped file, owned by the addon (see src/native/binding.cc and luaipc/mapping.h). */
export interface NativeMapping {
  readonly closed: boolean;
  /** Start address of the mapping. */
  addr(): bigint;
  /**
   * The external ArrayBuffer over the mapping (the same one while it is alive). It keeps the
   * mapping until it is collected, whether or not the handle was closed.
   */
  arrayBuffer(): ArrayBuffer;
  /** Whether the fault handler replaced lost pages of the mapping (the file shrank). */
  truncated(): boolean;
  /** msync(MS_SYNC) over the whole mapping (FlushViewOfFile on Windows). */
  flush(): void;
  /** Ends the handle; the memory goes once no ArrayBuffer over it is left. Idempotent. */
  close(): void;
}

/** mmap_os.h's modes. */
export const MODE_BITS = { r: 1, w: 2, rw: 3 } as const;

export interface MmapAddon {
  /** The offset granularity: the page size (POSIX) or the allocation granularity (Windows). */
  readonly pagesize: number;
  /** Bumped by the fault handler after each repair of any mapping (luaipc/mapping_os.h). */
  readonly faultEpoch: Uint32Array;
  /**
   * Maps `size` bytes (0: to the end of the file, failing `EFBIG` past `maxSize`) of the file
   * `pathBytes` from `offset`; `shownPath` names it in errors. Arguments are checked by the
   * caller.
   */
  MappedFile: new (
    pathBytes: Buffer,
    shownPath: string,
    mode: number,
    offset: number,
    size: number,
    maxSize: number,
  ) => NativeMapping;
  /** How many mappings the addon holds in this process, and the most it allows itself. */
  mappings(): { count: number; limit: number };
}

export const addon: MmapAddon = loadAddon<MmapAddon>({ name: 'mmap', from: import.meta.url });
