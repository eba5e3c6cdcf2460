import {
  closedError,
  IpcError,
  invalidArgType,
  invalidArgValue,
  luaArgError,
  outOfRange,
} from './errors.js';
import { formatNumber } from './format.js';
import { readNumber } from './number.js';
import { type ByteStore, MemoryStore } from './store.js';

/** What string reads return: UTF-8 strings, byte-exact latin1 strings, or Buffers. */
export type Encoding = 'utf8' | 'latin1' | 'buffer';
/** Which operations a handle allows. */
export type Mode = 'r' | 'w' | 'rw';
/**
 * A format letter as Lua reads it: one optional leading `*`, then only the first letter counts,
 * so `'l'`, `'*l'`, `'*line'` and `'line'` are one format.
 */
type Spelled<Letter extends string> = `${'' | '*'}${Letter}${string}`;
/**
 * Lua's read formats: `'n'`, `'a'`, `'l'`, `'L'` in any spelling Lua takes (`'*n'`, `'*all'`,
 * `'*line'`, ...), or a number of bytes.
 */
export type ReadFormat = Spelled<'n' | 'a' | 'l' | 'L'> | number;
type NumberFormat = Spelled<'n'>;
type AllFormat = Spelled<'a'>;
type LineFormat = Spelled<'l' | 'L'>;
/** One value a read returns; `T` is `string` or `Buffer` depending on the encoding. */
export type ReadValue<T> = T | number | null;
export type SeekWhence = 'set' | 'cur' | 'end';
export type BufferMode = 'no' | 'full' | 'line';
/** What `write` accepts: strings (encoded per the handle's encoding), numbers as Lua prints them, bytes. */
export type WriteValue = string | number | bigint | ArrayBufferView;

/** The data type of string reads for an encoding. */
export type DataOf<E extends Encoding | undefined> = E extends 'buffer' ? Buffer : string;

export interface FileLikeOptions<E extends Encoding = Encoding> {
  /** Allowed operations; default `'rw'`. */
  mode?: Mode;
  /** What string reads return; default `'utf8'`. Writes of strings use `latin1` for `'latin1'`. */
  encoding?: E;
  /** Logical size, at most the store's capacity; default the whole store. */
  size?: number;
  /** Called by `flush()` (mmap syncs its mapping here). */
  onFlush?: () => void;
  /** Called once, by the first `close()`. */
  onClose?: () => void;
  /**
   * The store's bytes never change while the handle is open (strfile): line reads may then
   * decode a block of lines at once and return slices of it.
   */
  immutable?: boolean;
  /**
   * Line reads may decode up to 64 KiB ahead and serve the following lines from that text, as a
   * stdio read buffer does, although the store can change under the handle (mmap: another
   * process writes the file). What was read ahead is dropped by `seek`, `flush`, `setvbuf`,
   * `write` and `truncate`; `setvbuf('no')` turns read-ahead off, `'full'` or `'line'` on again.
   */
  readAhead?: boolean;
}

const ENCODINGS: readonly string[] = ['utf8', 'latin1', 'buffer'];
const MODES: readonly string[] = ['r', 'w', 'rw'];
const WHENCES: readonly string[] = ['set', 'cur', 'end'];
const BUFFER_MODES: readonly string[] = ['no', 'full', 'line'];
/** liolib.c MAXARGLINE: how many formats `lines` accepts. */
const MAX_LINE_FORMATS = 250;

const NEWLINE = 10;
/** How many bytes a block line read decodes at once (then up to a newline). */
const BLOCK = 64 * 1024;

/**
 * The `encoding` of an options object (`'utf8'` when absent): `'utf8'`, `'latin1'` or
 * `'buffer'`, else a TypeError with code `ERR_INVALID_ARG_VALUE`. Every package that takes an
 * encoding checks it with this.
 */
export function checkEncoding(options: { encoding?: unknown } | undefined): Encoding {
  const encoding = options?.encoding;
  if (encoding === undefined) return 'utf8';
  if (typeof encoding !== 'string' || !ENCODINGS.includes(encoding)) {
    throw invalidArgValue(
      'options.encoding',
      encoding,
      "must be one of 'utf8', 'latin1', 'buffer'",
    );
  }
  return encoding as Encoding;
}

/** A parsed read format: a byte count or the format letter. */
type Format = number | 'n' | 'a' | 'l' | 'L';

function parseFormat(f: unknown, index: number, fn: string): Format {
  if (typeof f === 'number') {
    if (!Number.isInteger(f)) {
      throw luaArgError('value', index, fn, 'number has no integer representation');
    }
    if (f < 0) throw luaArgError('range', index, fn, 'count must be >= 0');
    return f;
  }
  if (typeof f !== 'string') throw luaArgError('type', index, fn, 'invalid format');
  // Like liolib.c: skip one '*', then only the first character matters ('*line' is 'l').
  const c = f[0] === '*' ? f[1] : f[0];
  if (c === 'n' || c === 'a' || c === 'l' || c === 'L') return c;
  throw luaArgError('value', index, fn, 'invalid format');
}

function checkInteger(value: unknown, index: number, fn: string): number {
  if (typeof value !== 'number') {
    throw luaArgError('type', index, fn, `number expected, got ${typeName(value)}`);
  }
  if (!Number.isInteger(value)) {
    throw luaArgError('value', index, fn, 'number has no integer representation');
  }
  return value;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * A Lua 5.4 file handle over a fixed-size byte store: the file-like part of LuaIPC's shm, mmap
 * and strfile handles. Reads, `lines`, writes and seeks behave like Lua's `io` library byte for
 * byte, except that the file never grows: writing past the end throws `ENOSPC` after writing what
 * fits, and seeking outside `[0, size()]` throws `EINVAL`.
 *
 * `T` is what string reads return: `string` (encodings `'utf8'`, `'latin1'`) or `Buffer`.
 */
export class FileLike<T extends string | Buffer = string> implements Disposable {
  readonly #store: ByteStore;
  readonly #encoding: Encoding;
  readonly #readable: boolean;
  readonly #writable: boolean;
  readonly #onFlush: (() => void) | undefined;
  #onClose: (() => void) | undefined;
  #size: number;
  #pos = 0;
  #closed = false;
  // Line reads of an immutable store (or one read ahead) decode whole lines [#blockStart,
  // #blockEnd) into #block once and hand out slices: one native decode per 64 KiB instead of one
  // per line, which dominated.
  readonly #immutable: boolean;
  readonly #readAhead: boolean;
  #blockReads: boolean;
  #block: string | undefined;
  #blockStart = 0;
  #blockEnd = 0;
  // A block with multi-byte chars (#wide) has fewer chars than bytes. It is read in order: lines
  // end at #cursorChar, and while #lazy the position is not kept per line (#pos is stale) but
  // found when something asks for it (#settle), from the block's chars since #markChar, the char
  // at byte #markByte.
  #wide = false;
  #lazy = false;
  #cursorChar = 0;
  #markChar = 0;
  #markByte = 0;

  constructor(store: ByteStore | Uint8Array, options: FileLikeOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw invalidArgType('options', 'of type object', options);
    }
    const { mode = 'rw', size, onFlush, onClose, immutable = false, readAhead = false } = options;
    const encoding = checkEncoding(options);
    if (!MODES.includes(mode)) {
      throw invalidArgValue('options.mode', mode, "must be one of 'r', 'w', 'rw'");
    }
    this.#store = store instanceof Uint8Array ? new MemoryStore(store) : store;
    const capacity = this.#store.byteLength;
    if (size !== undefined && (!Number.isSafeInteger(size) || size < 0 || size > capacity)) {
      throw outOfRange('options.size', `an integer >= 0 and <= ${capacity}`, size);
    }
    this.#size = size ?? capacity;
    this.#encoding = encoding;
    this.#readable = mode !== 'w';
    this.#writable = mode !== 'r';
    this.#onFlush = onFlush;
    this.#onClose = onClose;
    this.#immutable = immutable === true;
    this.#readAhead = readAhead === true && !this.#immutable;
    this.#blockReads = this.#immutable || this.#readAhead;
  }

  /** The encoding string reads use. */
  get encoding(): Encoding {
    return this.#encoding;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Reads according to Lua's formats: `'l'` a line without its newline (the default), `'L'` a
   * line with it, `'a'` the rest (`''` at EOF), `'n'` a numeral, `k` up to k bytes (`0` tests
   * for EOF, giving `''` or `null`). One format gives one value; several give an array that ends
   * at the first `null`, as Lua's multiple results do.
   */
  read(): T | null;
  read(format: NumberFormat): number | null;
  read(format: AllFormat): T;
  read(format: LineFormat | number): T | null;
  read(format: ReadFormat): ReadValue<T>;
  read(...formats: ReadFormat[]): ReadValue<T>[];
  read(...formats: ReadFormat[]): ReadValue<T> | ReadValue<T>[] {
    this.#checkReadable();
    if (formats.length === 0) return this.#readLine(true);
    if (formats.length === 1) return this.#readOne(parseFormat(formats[0], 1, 'read'));
    const parsed = formats.map((f, i) => parseFormat(f, i + 1, 'read'));
    return this.#readMany(parsed);
  }

  /**
   * An iterator that reads with `formats` (default `'l'`) from the current position on each
   * step, and ends when the first value is `null`, like Lua's `file:lines`. With several formats
   * each step yields an array.
   */
  lines(): IterableIterator<T>;
  lines(format: NumberFormat): IterableIterator<number>;
  lines(format: LineFormat | AllFormat | number): IterableIterator<T>;
  lines(format: ReadFormat): IterableIterator<T | number>;
  lines(...formats: ReadFormat[]): IterableIterator<ReadValue<T>[]>;
  lines(...formats: ReadFormat[]): IterableIterator<ReadValue<T> | ReadValue<T>[]> {
    this.#checkOpen();
    if (formats.length > MAX_LINE_FORMATS) {
      throw luaArgError('range', MAX_LINE_FORMATS + 1, 'lines', 'too many arguments');
    }
    const parsed = formats.map((f, i) => parseFormat(f, i + 1, 'lines'));
    const single = parsed.length <= 1;
    const format = parsed[0] ?? 'l';
    const next = (): IteratorResult<ReadValue<T> | ReadValue<T>[]> => {
      this.#checkReadable();
      if (single) {
        const value = format === 'l' ? this.#readLine(true) : this.#readOne(format);
        return value === null ? { done: true, value: undefined } : { done: false, value };
      }
      const values = this.#readMany(parsed);
      return values[0] === null ? { done: true, value: undefined } : { done: false, value: values };
    };
    return {
      next,
      [Symbol.iterator]() {
        return this;
      },
    };
  }

  /**
   * Writes strings, numbers (integers like `%d`, others like Lua's `%.14g`) and bytes at the
   * current position, and returns the handle for chaining. When a value does not fit, the part
   * that fits is written and `IpcError` `ENOSPC` is thrown.
   */
  write(...values: WriteValue[]): this {
    this.#checkOpen();
    this.#settle();
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      let bytes: Uint8Array;
      if (typeof value === 'string') {
        bytes = Buffer.from(value, this.#encoding === 'latin1' ? 'latin1' : 'utf8');
      } else if (typeof value === 'number' || typeof value === 'bigint') {
        bytes = Buffer.from(formatNumber(value), 'latin1');
      } else if (value instanceof Uint8Array) {
        bytes = value;
      } else if (ArrayBuffer.isView(value)) {
        // Any typed array or DataView: its bytes as they are in memory.
        bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
      } else {
        throw luaArgError(
          'type',
          i + 1,
          'write',
          `string, number or ArrayBufferView expected, got ${typeName(value)}`,
        );
      }
      if (!this.#writable)
        throw new IpcError('EBADF', 'write', { description: 'permission denied' });
      const room = this.#size - this.#pos;
      const n = Math.min(room, bytes.length);
      if (n > 0) {
        this.#blockEnd = 0;
        this.#store.write(n < bytes.length ? bytes.subarray(0, n) : bytes, this.#pos);
      }
      this.#pos += n;
      if (n < bytes.length) throw new IpcError('ENOSPC', 'write');
    }
    return this;
  }

  /**
   * Sets the position to `offset` from the start (`'set'`), the current position (`'cur'`,
   * the default) or the end (`'end'`), and returns the new position. Positions outside
   * `[0, size()]` throw `IpcError` `EINVAL` and leave the position unchanged.
   */
  seek(whence: SeekWhence = 'cur', offset = 0): number {
    this.#checkOpen();
    if (typeof whence !== 'string' || !WHENCES.includes(whence)) {
      throw luaArgError('value', 1, 'seek', `invalid option '${String(whence)}'`);
    }
    checkInteger(offset, 2, 'seek');
    this.#settle();
    const base = whence === 'set' ? 0 : whence === 'cur' ? this.#pos : this.#size;
    const target = base + offset;
    if (target < 0 || target > this.#size) throw new IpcError('EINVAL', 'seek');
    this.#pos = target;
    // As fseek drops stdio's read buffer: a seek is how a reader asks for fresh bytes.
    if (this.#readAhead) this.#blockEnd = 0;
    return target;
  }

  /**
   * Lua's `setvbuf`. The handle writes straight to memory, so for writes any buffering mode
   * behaves like `'no'`; the mode is still validated. A handle made with `readAhead` reads lines
   * ahead unless the mode is `'no'`. Returns `true`.
   */
  setvbuf(mode: BufferMode, size?: number): true {
    this.#checkOpen();
    if (typeof mode !== 'string' || !BUFFER_MODES.includes(mode)) {
      throw luaArgError('value', 1, 'setvbuf', `invalid option '${String(mode)}'`);
    }
    if (size !== undefined) {
      checkInteger(size, 2, 'setvbuf');
      if (size < 0) throw luaArgError('range', 2, 'setvbuf', 'size must be >= 0');
    }
    this.#settle();
    if (this.#readAhead) {
      this.#blockReads = mode !== 'no';
      this.#blockEnd = 0;
    }
    return true;
  }

  /**
   * Runs the owner's flush hook (mmap: sync to the file) and returns the handle; drops what was
   * read ahead.
   */
  flush(): this {
    this.#checkOpen();
    this.#settle();
    if (this.#readAhead) this.#blockEnd = 0;
    this.#onFlush?.();
    return this;
  }

  /** The logical size in bytes. */
  size(): number {
    this.#checkOpen();
    return this.#size;
  }

  /**
   * Shrinks the logical size to `n` bytes (growing is not possible: the memory is fixed).
   * A position past the new end moves to the end. Returns `true`.
   */
  truncate(n: number): true {
    this.#checkOpen();
    checkInteger(n, 1, 'truncate');
    this.#settle();
    if (n < 0 || n > this.#size) {
      throw luaArgError('range', 1, 'truncate', `size must be from 0 to ${this.#size}`);
    }
    this.#size = n;
    this.#blockEnd = 0;
    if (this.#pos > n) this.#pos = n;
    return true;
  }

  /** Closes the handle once (running the close hook); later calls do nothing. Returns `true`. */
  close(): true {
    if (this.#closed) return true;
    this.#closed = true;
    const hook = this.#onClose;
    this.#onClose = undefined;
    hook?.();
    return true;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** For `console.log`: Lua's `tostring(file)` style. */
  toString(): string {
    return this.#closed ? 'file (closed)' : `file (${this.#size} bytes)`;
  }

  #checkOpen(): void {
    if (this.#closed) throw closedError('file');
  }

  #checkReadable(): void {
    this.#checkOpen();
    if (!this.#readable) throw new IpcError('EBADF', 'read', { description: 'permission denied' });
  }

  #readMany(formats: Format[]): ReadValue<T>[] {
    const out: ReadValue<T>[] = [];
    for (const f of formats) {
      const value = this.#readOne(f);
      out.push(value);
      if (value === null) break;
    }
    return out;
  }

  #readOne(format: Format): ReadValue<T> {
    if (format === 'l' || format === 'L') return this.#readLine(format === 'l');
    this.#settle();
    switch (format) {
      case 'a': {
        const start = this.#pos;
        this.#pos = this.#size;
        return this.#data(start, this.#size);
      }
      case 'n': {
        const { value, pos } = readNumber(this.#store, this.#pos, this.#size);
        this.#pos = pos;
        return value;
      }
      default: {
        const start = this.#pos;
        if (format === 0) return start < this.#size ? this.#data(start, start) : null;
        if (start >= this.#size) return null;
        const end = Math.min(this.#size, start + format);
        this.#pos = end;
        return this.#data(start, end);
      }
    }
  }

  #readLine(chop: boolean): T | null {
    if (this.#lazy) return this.#readWideLine(chop);
    const start = this.#pos;
    const size = this.#size;
    if (start >= size) return null;
    if (this.#blockReads && this.#encoding !== 'buffer') {
      const line = this.#readBlockLine(start, chop);
      if (line !== null) return line;
    }
    const nl = this.#store.indexOf(NEWLINE, start, size);
    const end = nl < 0 ? size : nl + 1;
    this.#store.reading?.(start, end);
    this.#pos = end;
    return this.#data(start, nl < 0 ? size : chop ? nl : end);
  }

  /** The next line from the decoded block, or null when this block must be decoded per line. */
  #readBlockLine(start: number, chop: boolean): T | null {
    if (this.#wide && start === this.#markByte && start < this.#blockEnd) {
      // Back where a wide block was left (#settle): go on from its cursor.
      this.#lazy = true;
      return this.#readWideLine(chop);
    }
    if (start < this.#blockStart || start >= this.#blockEnd || this.#wide) this.#fillBlock(start);
    const block = this.#block;
    if (block === undefined) return null;
    if (this.#wide) return this.#readWideLine(chop);
    // The block has one char per byte, so char indexes are byte offsets from #blockStart.
    const from = start - this.#blockStart;
    const nl = block.indexOf('\n', from);
    if (nl < 0) {
      // Blocks end after a newline or at the size: this is the last line, without '\n'.
      this.#pos = this.#blockEnd;
      return block.slice(from) as T;
    }
    this.#pos = this.#blockStart + nl + 1;
    return block.slice(from, chop ? nl : nl + 1) as T;
  }

  /** The next line of a wide block, from its cursor; #lazy on entry. */
  #readWideLine(chop: boolean): T {
    const block = this.#block as string;
    const from = this.#cursorChar;
    const nl = block.indexOf('\n', from);
    const end = nl < 0 ? block.length : nl + 1;
    this.#cursorChar = end;
    if (end === block.length) {
      // The block's last line ends where the block does: the position is known again.
      this.#lazy = false;
      this.#markChar = end;
      this.#markByte = this.#blockEnd;
      this.#pos = this.#blockEnd;
    }
    return (nl < 0 ? block.slice(from) : block.slice(from, chop ? nl : end)) as T;
  }

  /**
   * Makes #pos exact after lazy line reads of a wide block: the UTF-8 length of the chars read
   * since the mark (the block is valid UTF-8, which round-trips). Every operation but a line
   * read calls it first.
   */
  #settle(): void {
    if (!this.#lazy) return;
    this.#lazy = false;
    const block = this.#block as string;
    const cursor = this.#cursorChar;
    this.#markByte += Buffer.byteLength(block.slice(this.#markChar, cursor), 'utf8');
    this.#markChar = cursor;
    this.#pos = this.#markByte;
  }

  /**
   * Decodes whole lines from `start` (64 KiB, then up to a newline). A block of one char per byte
   * is read by offset; valid UTF-8 with multi-byte chars is read in order (#wide). Bytes that are
   * not valid UTF-8 leave #block undefined: those lines are decoded one by one.
   */
  #fillBlock(start: number): void {
    const size = this.#size;
    let end = start + BLOCK;
    if (end >= size) end = size;
    else {
      const nl = this.#store.indexOf(NEWLINE, end - 1, size);
      end = nl < 0 ? size : nl + 1;
    }
    this.#blockStart = start;
    this.#blockEnd = end;
    this.#block = undefined;
    this.#wide = false;
    this.#lazy = false;
    this.#store.reading?.(start, end);
    const text = this.#store.decode(this.#encoding as 'utf8' | 'latin1', start, end);
    // Each byte gave one char (ASCII, latin1, or every bad byte one U+FFFD): offsets line up.
    if (text.length === end - start) {
      this.#block = text;
      return;
    }
    // A U+FFFD may stand for several bad bytes, so the chars no longer tell the bytes; valid
    // UTF-8 (which has no U+FFFD but its own 3-byte one) does.
    if (text.includes('\uFFFD')) return;
    this.#block = text;
    this.#wide = true;
    this.#lazy = true;
    this.#cursorChar = 0;
    this.#markChar = 0;
    this.#markByte = start;
  }

  #data(start: number, end: number): T {
    const encoding = this.#encoding;
    return (
      encoding === 'buffer'
        ? this.#store.copy(start, end)
        : this.#store.decode(encoding, start, end)
    ) as T;
  }
}
