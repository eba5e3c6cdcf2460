import type { NativeMapping } from '@luaipc/filelike';
import { loadAddon } from '@luaipc/native/load';

/** A mapped file (see src/native/binding.cc and luaipc/mapping.h). */
export interface NativeMappedFile extends NativeMapping {
  /** msync(MS_SYNC) over the whole mapping (FlushViewOfFile on Windows). */
  flush(): void;
  /**
   * luaipc_mmap_advise (mmap_os.h) over `[offset, offset + length)` of the mapping, `offset` a
   * multiple of the page size; a hint: nothing happens for a range outside the mapping.
   */
  advise(advice: number, offset: number, length: number): void;
}

/** mmap_os.h's modes. */
export const MODE_BITS = { r: 1, w: 2, rw: 3 } as const;

export interface MmapAddon {
  /** The offset granularity: the page size (POSIX) or the allocation granularity (Windows). */
  readonly pagesize: number;
  /** Bumped by the fault handler after each repair of any mapping (luaipc/mapping.h). */
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
  ) => NativeMappedFile;
  /** How many mappings the addon holds in this process, and the most it allows itself. */
  mappings(): { count: number; limit: number };
}

export const addon: MmapAddon = loadAddon<MmapAddon>({ name: 'mmap', from: import.meta.url });
