import { loadAddon } from '@luaipc/native/load';

/** One mapped segment, owned by the addon (see src/native/binding.cc and luaipc/mapping.h). */
export interface NativeSegment {
  readonly closed: boolean;
  /** Start address of the mapping. */
  addr(): bigint;
  /**
   * The external ArrayBuffer over the mapping (the same one while it is alive). It keeps the
   * mapping until it is collected, whether or not the handle was closed.
   */
  arrayBuffer(): ArrayBuffer;
  /** Whether the fault handler replaced lost pages of the mapping (the segment shrank). */
  truncated(): boolean;
  /** Ends the handle; a creator lets go of its name (if it still names its segment). Idempotent. */
  close(): void;
}

export interface ShmAddon {
  /** Longest name in bytes the OS accepts (without the leading '/'). */
  readonly NAME_MAX: number;
  /** Bumped by the fault handler after each repair of any mapping (luaipc/mapping_os.h). */
  readonly faultEpoch: Uint32Array;
  /**
   * `create`: creates `name` with `size` bytes; otherwise attaches to `name`, failing `EFBIG`
   * when it is larger than `size`. Arguments are checked by the caller.
   */
  Segment: new (
    name: string,
    size: number,
    create: boolean,
  ) => NativeSegment;
  unlink(name: string): void;
  /** How many mappings the addon holds in this process, and the most it allows itself. */
  mappings(): { count: number; limit: number };
}

export const addon: ShmAddon = loadAddon<ShmAddon>({ name: 'shm', from: import.meta.url });
