import type { NativeMapping } from '@luaipc/filelike';
import { loadAddon } from '@luaipc/native/load';

/** The mapped segment (luaipc::MappedHandle): the receiver creates it, senders map it whole. */
export interface NativeSegment extends NativeMapping {
  /** Reserves the pages of a sender's slot now (ENOSPC here rather than a fault later). */
  reserve(offset: number, length: number): void;
  /** Gives a free slot's pages back. */
  discard(offset: number, length: number): void;
}

/** The channel's lock file: one-byte locks the OS drops when their holder closes or dies. */
export interface NativeLocks {
  /** Whether the byte is ours now. */
  trylock(at: number): boolean;
  unlock(at: number): void;
  /** Whether someone else holds the byte. */
  held(at: number): boolean;
  close(): void;
  readonly closed: boolean;
}

/** One end of a doorbell. */
export interface NativeBell {
  /** 0, or the errno of a failed ring (EPIPE: nobody listens any more). */
  ring(): number;
  /** Rung (true), timed out (false; seconds, < 0 none) or its worker is being stopped (undefined). */
  waitSync(timeout: number, inWorker: boolean): boolean | undefined;
  /** The same from a thread of ours, for doorbells the event loop cannot poll (Windows). */
  wait(timeout: number, id: number): Promise<boolean>;
  cancel(id: number, reason: unknown): boolean;
  /** Consumes pending rings. */
  drain(): void;
  /** A new descriptor the event loop can poll (the caller closes it), or -1 where there is none. */
  pollable(): number;
  close(): void;
  readonly closed: boolean;
}

export interface ChannelAddon {
  /** The longest channel name in bytes. */
  readonly NAME_MAX: number;
  /** Where this build puts a new channel's lock file and doorbells (the header's `dir`). */
  readonly DIR: number;
  readonly faultEpoch: Uint32Array;
  /** `(name, true, size, reserve)` creates; `(name, false, minSize, maxSize)` maps an existing one. */
  Segment: new (
    name: string,
    create: boolean,
    a: number,
    b: number,
  ) => NativeSegment;
  Locks: new (name: string, dir: number) => NativeLocks;
  /** mode 0: ring it; 1: listen on it; 2: listen on a new one (EEXIST if it exists). lane -1: the receiver's. */
  Bell: new (
    name: string,
    dir: number,
    lane: number,
    mode: 0 | 1 | 2,
  ) => NativeBell;
  removeBell(name: string, dir: number, lane: number): void;
  unlink(name: string): void;
  mappings(): { count: number; limit: number };
}

export const addon: ChannelAddon = loadAddon<ChannelAddon>({
  name: 'channel',
  from: import.meta.url,
});
