import { isAscii } from 'node:buffer';

/**
 * Where a FileLike's bytes live. The default is {@link MemoryStore} over a Buffer; shm and mmap
 * hand in a Buffer over their mapping, and a store that copies through native calls can implement
 * this interface instead.
 *
 * Positions are always inside `[0, byteLength]`: FileLike checks them before it calls.
 */
export interface ByteStore {
  /** Capacity in bytes. A FileLike's logical size never exceeds it. */
  readonly byteLength: number;
  /** The byte at `pos`. */
  at(pos: number): number;
  /** Index of the first `byte` in `[from, to)`, or -1. */
  indexOf(byte: number, from: number, to: number): number;
  /** A fresh copy of the bytes `[start, end)`: later writes to the store must not change it. */
  copy(start: number, end: number): Buffer;
  /** The bytes `[start, end)` decoded as a string. */
  decode(encoding: 'utf8' | 'latin1', start: number, end: number): string;
  /** Writes `src` at `pos` (the caller ensures it fits). */
  write(src: Uint8Array, pos: number): void;
  /** Optional: whether the bytes `[start, end)` are all ASCII (lets line reads skip a decode). */
  isAscii?(start: number, end: number): boolean;
}

/** Node's Buffer has these since v0.x; @types/node does not declare them. */
interface FastSlices extends Buffer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}

/** A {@link ByteStore} over a Buffer (or any Uint8Array, viewed without copying). */
export class MemoryStore implements ByteStore {
  readonly bytes: Buffer;

  constructor(bytes: Uint8Array) {
    this.bytes = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get byteLength(): number {
    return this.bytes.length;
  }

  at(pos: number): number {
    return this.bytes[pos] as number;
  }

  indexOf(byte: number, from: number, to: number): number {
    const i = this.bytes.indexOf(byte, from);
    return i < to ? i : -1;
  }

  copy(start: number, end: number): Buffer {
    return Buffer.from(this.bytes.subarray(start, end));
  }

  decode(encoding: 'utf8' | 'latin1', start: number, end: number): string {
    // The unchecked slicers skip toString's argument handling, which dominates on short lines.
    const bytes = this.bytes as FastSlices;
    return encoding === 'utf8' ? bytes.utf8Slice(start, end) : bytes.latin1Slice(start, end);
  }

  write(src: Uint8Array, pos: number): void {
    this.bytes.set(src, pos);
  }

  isAscii(start: number, end: number): boolean {
    return isAscii(this.bytes.subarray(start, end));
  }
}
