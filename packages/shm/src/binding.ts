import type { NativeMapping } from '@luaipc/filelike';
import { loadAddon } from '@luaipc/native/load';

export interface ShmAddon {
  /** Longest name in bytes the OS accepts (without the leading '/'). */
  readonly NAME_MAX: number;
  /** Bumped by the fault handler after each repair of any mapping (luaipc/mapping.h). */
  readonly faultEpoch: Uint32Array;
  /**
   * `create`: creates `name` with `size` bytes; otherwise attaches to `name`, failing `EFBIG`
   * when it is larger than `size`. Arguments are checked by the caller.
   */
  Segment: new (
    name: string,
    size: number,
    create: boolean,
  ) => NativeMapping;
  unlink(name: string): void;
  /** How many mappings the addon holds in this process, and the most it allows itself. */
  mappings(): { count: number; limit: number };
}

export const addon: ShmAddon = loadAddon<ShmAddon>({ name: 'shm', from: import.meta.url });
