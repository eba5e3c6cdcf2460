/**
 * The wire layout of a channel segment, version 1: the one place the JavaScript side states it
 * (the package README's "Wire spec" describes the same, and `python/luaipc_channel.py` mirrors it).
 * All integers are little-endian u32; byte offsets from the start of the segment.
 */
import { IpcError } from '@luaipc/filelike';

export const MAGIC = 'LUAIPCCH';
export const VERSION = 1;

/** Header fields (byte offsets). */
export const H_MAGIC = 0; // 8 ASCII bytes, written last by the creator
export const H_VERSION = 8;
export const H_HEADER_BYTES = 12; // where slot 0's ring starts
export const H_LANES = 16; // sender slots
export const H_CAPACITY = 20; // ring bytes per slot
export const H_MAX_MESSAGE = 24;
export const H_DIR = 28; // where the lock file and doorbells are: 0 /dev/shm, 1 /tmp
export const H_STATE = 32; // the receiver's: RX_OPEN, RX_CLOSED
export const H_PID = 36; // the receiver's process (information only)
export const H_REGISTRATIONS = 40; // bumped on every claim and release of a slot
/**
 * Written by the receiver only, on a cache line of its own: while it sleeps on its doorbell, the
 * number of that sleep; 0 awake.
 */
export const H_SLEEPING = 64;

/** The slot table: one control block per sender slot. */
export const LANE_TABLE = 128;
export const LANE_STRIDE = 128;
/** Control block fields (byte offsets within the block). Written by the slot's sender: */
export const L_TAIL = 0; // end of the committed records (a free-running byte count)
export const L_STATE = 4; // LANE_FREE, LANE_ACTIVE, LANE_CLOSED
export const L_WAITING = 8; // while the sender waits for room: the bytes it needs (else 0)
export const L_PID = 12; // the sender's process (information only)
export const L_CLAIMS = 16; // bumped at every claim of the slot
/** ...and by the receiver only, on a cache line of its own: */
export const L_HEAD = 64; // start of the records not yet taken

export const LANE_FREE = 0;
export const LANE_ACTIVE = 1;
export const LANE_CLOSED = 2;
export const RX_OPEN = 1;
export const RX_CLOSED = 2;

/** Bytes of the lock file whose locks mean something (one-byte fcntl locks). */
export const LOCK_REGISTER = 0; // held while a slot is claimed or released
export const LOCK_RECEIVER = 1; // held by the receiver while it lives
export const LOCK_LANE = 64; // + k: held by slot k's sender while it lives

/** A record: u32 payload length, the payload, zero to seven bytes of padding to a multiple of 8. */
export const RECORD_HEADER = 4;
export const RECORD_ALIGN = 8;

export const PAGE = 4096;
export const MIN_CAPACITY = PAGE;
/** The largest ring per sender (1 GiB). */
export const MAX_CAPACITY: number = 2 ** 30;
/** The most senders one channel can have at once. */
export const MAX_SENDERS = 1024;
export const DEFAULT_CAPACITY: number = 2 ** 20;
export const DEFAULT_SENDERS = 64;

export function recordBytes(length: number): number {
  return (RECORD_HEADER + length + RECORD_ALIGN - 1) & ~(RECORD_ALIGN - 1);
}

/** The largest message a ring of `capacity` bytes takes: one record filling the ring. */
export function maxMessageFor(capacity: number): number {
  return capacity - RECORD_HEADER;
}

/** `n` rounded up to a power of two, at least MIN_CAPACITY. */
export function roundCapacity(n: number): number {
  let c = MIN_CAPACITY;
  while (c < n) c *= 2;
  return c;
}

export function headerBytesFor(lanes: number): number {
  return Math.ceil((LANE_TABLE + lanes * LANE_STRIDE) / PAGE) * PAGE;
}

export function segmentBytes(lanes: number, capacity: number): number {
  return headerBytesFor(lanes) + lanes * capacity;
}

/** Offset of slot `lane`'s control block. */
export function laneBlock(lane: number): number {
  return LANE_TABLE + lane * LANE_STRIDE;
}

/** What a segment's header says, checked. */
export interface Geometry {
  lanes: number;
  capacity: number;
  headerBytes: number;
  maxMessage: number;
  dir: number;
}

/** The header fields of a new channel, all but the magic (the creator writes it last). */
export function writeHeader(bytes: Buffer, g: Geometry, pid: number): void {
  bytes.writeUInt32LE(VERSION, H_VERSION);
  bytes.writeUInt32LE(g.headerBytes, H_HEADER_BYTES);
  bytes.writeUInt32LE(g.lanes, H_LANES);
  bytes.writeUInt32LE(g.capacity, H_CAPACITY);
  bytes.writeUInt32LE(g.maxMessage, H_MAX_MESSAGE);
  bytes.writeUInt32LE(g.dir, H_DIR);
  bytes.writeUInt32LE(RX_OPEN, H_STATE);
  bytes.writeUInt32LE(pid >>> 0, H_PID);
}

/** `IpcError` EPROTO for a name that is not a channel, saying why. */
export function notAChannel(name: string, why: string): IpcError {
  return new IpcError('EPROTO', 'connect', { path: name, description: `not a channel: ${why}` });
}

/**
 * Reads and checks the header of segment `name` (mapped as `bytes`): a plain shm segment, another
 * version or a header that does not add up is `IpcError` EPROTO, saying which.
 */
export function readHeader(bytes: Buffer, name: string): Geometry {
  if (bytes.length < LANE_TABLE) throw notAChannel(name, 'too small');
  if (bytes.toString('latin1', H_MAGIC, H_MAGIC + 8) !== MAGIC) {
    throw notAChannel(name, 'no channel header (wrong magic)');
  }
  const version = bytes.readUInt32LE(H_VERSION);
  if (version !== VERSION) {
    throw new IpcError('EPROTO', 'connect', {
      path: name,
      description: `channel version ${version}, this one speaks version ${VERSION}`,
    });
  }
  const lanes = bytes.readUInt32LE(H_LANES);
  const capacity = bytes.readUInt32LE(H_CAPACITY);
  const headerBytes = bytes.readUInt32LE(H_HEADER_BYTES);
  const maxMessage = bytes.readUInt32LE(H_MAX_MESSAGE);
  const dir = bytes.readUInt32LE(H_DIR);
  const sane =
    lanes >= 1 &&
    lanes <= MAX_SENDERS &&
    capacity >= MIN_CAPACITY &&
    capacity <= MAX_CAPACITY &&
    (capacity & (capacity - 1)) === 0 &&
    headerBytes === headerBytesFor(lanes) &&
    maxMessage === maxMessageFor(capacity) &&
    (dir === 0 || dir === 1) &&
    bytes.length === segmentBytes(lanes, capacity);
  if (!sane) throw notAChannel(name, 'its header does not add up');
  return { lanes, capacity, headerBytes, maxMessage, dir };
}
