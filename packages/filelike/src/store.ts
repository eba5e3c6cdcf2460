import { isAscii } from 'node:buffer';
import { IpcError } from './errors.js';

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
    return searchByte(this.bytes, byte, from, to);
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

/** What a {@link MappedStore} asks about its mapping (see `luaipc/mapping.h`). */
export interface MappingProbe {
  /**
   * A one-element counter that the native fault handler increments after it replaced lost
   * pages of any mapping: read without a native call, so checking costs one load.
   */
  readonly epoch: Uint32Array;
  /** Whether this mapping has lost pages (sticky). */
  truncated(): boolean;
}

/**
 * What a {@link MappedStore} throws once its mapping lost pages: `IpcError` with this code,
 * syscall `'read'` or `'write'`, and the object's name or file in `path`. ENXIO is what POSIX
 * `mmap` says for "addresses invalid for the object", which is what the lost pages are.
 */
export const TRUNCATED_CODE = 'ENXIO';
const TRUNCATED_DESCRIPTION = 'mapped object was truncated';

const EMPTY = Buffer.alloc(0);
/** UTF-8 decodes up to this size go through one reused private buffer. */
const SCRATCH_MAX = 64 * 1024;
let scratch: Buffer | undefined;

/**
 * Index of the first `byte` in `bytes[from, to)`, or -1. Buffer#indexOf has no end: past a
 * logical end (a FileLike truncated to less than its store) the search is cut with a view, so it
 * never reads bytes the caller did not ask for (on a mapping, pages another process removed).
 */
function searchByte(bytes: Buffer, byte: number, from: number, to: number): number {
  if (to >= bytes.length) return bytes.indexOf(byte, from);
  return bytes.subarray(0, to).indexOf(byte, from);
}

/**
 * A {@link ByteStore} over memory that other processes share (shm, mmap): the bytes can change,
 * or vanish, at any moment.
 *
 * - Text is decoded from a private copy: V8 reads UTF-8 twice (to size the string, then to fill
 *   it), and bytes that change in between overflow the string. One copy, then the decode.
 * - When the object behind the mapping shrinks, the native fault handler replaces the lost pages
 *   with zeros and bumps `probe.epoch`. Every access then checks the epoch (one load) and, once
 *   the mapping is truncated, throws `IpcError` {@link TRUNCATED_CODE} (`'read'` or `'write'`).
 *   Reads copy first and check after, so bytes read during the fault are never returned.
 */
export class MappedStore implements ByteStore {
  #bytes: Buffer;
  /** The same memory as a plain Uint8Array: its subarray and set are the cheapest copy. */
  #view: Uint8Array;
  readonly #probe: MappingProbe;
  readonly #epoch: Uint32Array;
  readonly #path: string;
  #seen: number;
  #truncated = false;

  /**
   * `mapping`: the handle's own ArrayBuffer over the mapping (`NativeMapping.view()`: no user
   * code sees it or the views made of it here), or a Buffer, in tests; `path`: the name or file,
   * for errors.
   */
  constructor(mapping: ArrayBuffer | Buffer, probe: MappingProbe, path: string) {
    const bytes = Buffer.isBuffer(mapping) ? mapping : Buffer.from(mapping);
    this.#bytes = bytes;
    this.#view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#probe = probe;
    this.#epoch = probe.epoch;
    this.#path = path;
    this.#seen = probe.epoch[0] as number;
  }

  get byteLength(): number {
    return this.#bytes.length;
  }

  /** Whether the mapping has lost pages (asks the probe only if the epoch moved). */
  get truncated(): boolean {
    this.#poll();
    return this.#truncated;
  }

  /** Lets go of the memory (the owner's close): the store is empty from then on. */
  release(): void {
    this.#bytes = EMPTY;
    this.#view = EMPTY;
  }

  at(pos: number): number {
    const byte = this.#bytes[pos] as number;
    this.check('read');
    return byte;
  }

  indexOf(byte: number, from: number, to: number): number {
    const i = searchByte(this.#bytes, byte, from, to);
    this.check('read');
    return i;
  }

  copy(start: number, end: number): Buffer {
    const out = Buffer.from(this.#bytes.subarray(start, end));
    this.check('read');
    return out;
  }

  decode(encoding: 'utf8' | 'latin1', start: number, end: number): string {
    if (encoding === 'latin1') {
      // One pass over the bytes (a copy into the string): safe straight from shared memory.
      const text = (this.#bytes as FastSlices).latin1Slice(start, end);
      this.check('read');
      return text;
    }
    const n = end - start;
    let copy: Buffer;
    if (n <= SCRATCH_MAX) {
      scratch ??= Buffer.allocUnsafeSlow(SCRATCH_MAX);
      copy = scratch;
    } else {
      copy = Buffer.allocUnsafe(n);
    }
    copy.set(this.#view.subarray(start, end));
    this.check('read');
    return (copy as FastSlices).utf8Slice(0, n);
  }

  write(src: Uint8Array, pos: number): void {
    this.check('write');
    this.#bytes.set(src, pos);
    this.check('write');
  }

  isAscii(start: number, end: number): boolean {
    const ascii = isAscii(this.#bytes.subarray(start, end));
    this.check('read');
    return ascii;
  }

  /**
   * Throws `IpcError` {@link TRUNCATED_CODE} for `syscall` once the mapping has lost pages (one
   * load while it has not): every access calls it, and so does mmap's `flush()`.
   */
  check(syscall: string): void {
    if (this.#truncated || this.#epoch[0] !== this.#seen) {
      this.#poll();
      if (this.#truncated) {
        throw new IpcError(TRUNCATED_CODE, syscall, {
          path: this.#path,
          description: TRUNCATED_DESCRIPTION,
        });
      }
    }
  }

  #poll(): void {
    if (this.#truncated) return;
    const epoch = this.#epoch[0] as number;
    if (epoch === this.#seen) return;
    this.#seen = epoch;
    this.#truncated = this.#probe.truncated();
  }
}
