/**
 * Messages between processes and threads through shared memory: `create(name)` gives the receiver,
 * `connect(name)` a sender; `await receive()`, `send()`, their `...Sync` and `try...` forms.
 *
 * @packageDocumentation
 */
import { constants as bufferConstants } from 'node:buffer';
import {
  checkEncoding,
  closedError,
  type DataOf,
  type Encoding,
  IpcError,
  illegalConstructor,
  invalidArgType,
  invalidArgValue,
  outOfRange,
} from '@luaipc/filelike';
import {
  checkInteger,
  checkName,
  checkOptions,
  checkTimeout,
  type WaitOptions,
  waitArgs,
} from '@luaipc/native/args';
import { addon, type NativeBell, type NativeLocks, type NativeSegment } from './binding.js';
import {
  DEFAULT_CAPACITY,
  DEFAULT_SENDERS,
  type Geometry,
  H_MAGIC,
  H_REGISTRATIONS,
  H_STATE,
  headerBytesFor,
  L_CLAIMS,
  L_HEAD,
  L_PID,
  L_STATE,
  L_TAIL,
  L_WAITING,
  LANE_ACTIVE,
  LANE_FREE,
  LANE_TABLE,
  LOCK_LANE,
  LOCK_RECEIVER,
  LOCK_REGISTER,
  laneBlock,
  MAGIC,
  MAX_CAPACITY,
  MAX_SENDERS,
  maxMessageFor,
  notAChannel,
  RX_OPEN,
  readHeader,
  roundCapacity,
  segmentBytes,
  writeHeader,
} from './layout.js';
import { ReceiverCore } from './receiver.js';
import { type Payload, SenderCore } from './sender.js';

export { type Encoding, IpcError, MAX_CAPACITY, MAX_SENDERS, type WaitOptions };

/** The largest segment this Node maps in one Buffer, and the word offsets must fit in 32 bits. */
const MAX_SEGMENT = Math.min(bufferConstants.MAX_LENGTH, 2 ** 32);

export interface ReceiverOptions<E extends Encoding = Encoding> {
  /**
   * Bytes of the ring each sender gets (default 1 MiB), rounded up to a power of two (at least
   * 4096, at most {@link MAX_CAPACITY}). The largest message is the ring less its 4-byte frame
   * (`maxMessage`).
   */
  capacity?: number;
  /** What messages arrive as: `'buffer'` (default), or text decoded as `'utf8'` or `'latin1'`. */
  encoding?: E;
  /**
   * How many senders can be connected at once (default 64, at most {@link MAX_SENDERS}). Each
   * gets a ring of its own; memory is reserved only for the connected ones.
   */
  maxSenders?: number;
}

const CONSTRUCT = Symbol('channel');

/**
 * The receiving end of a channel, made by {@link create}: messages from every connected
 * {@link Sender}, each sender's in the order it sent them. `T` is `Buffer` (encoding
 * `'buffer'`) or `string`.
 */
export class Receiver<T extends string | Buffer = Buffer> implements AsyncIterable<T>, Disposable {
  /** The channel's name. */
  readonly name: string;
  /** Bytes of each sender's ring. */
  readonly capacity: number;
  /** The largest message in bytes; a larger one is a RangeError at the sender. */
  readonly maxMessage: number;
  /** How many senders can be connected at once. */
  readonly maxSenders: number;
  /** What messages arrive as. */
  readonly encoding: Encoding;
  readonly #core: ReceiverCore<T>;

  /** @internal Made by {@link create}. */
  constructor(token: symbol, core: ReceiverCore<T>) {
    if (token !== CONSTRUCT) throw illegalConstructor('Receiver handles are made by create()');
    this.#core = core;
    this.name = core.name;
    this.capacity = core.capacity;
    this.maxMessage = core.maxMessage;
    this.maxSenders = core.lanes;
    this.encoding = core.encoding;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#core.closed;
  }

  /**
   * How many senders are connected and alive now. Asks the OS about each connected one (a lock
   * test), so it costs a system call per sender; a sender that closed or died is counted out at
   * once (its messages are still delivered).
   */
  get senders(): number {
    if (this.#core.closed) throw closedError('channel');
    return this.#core.sweep();
  }

  /** The next message, or `null` when none is waiting. Never waits. */
  tryReceive(): T | null {
    return this.#core.tryReceive();
  }

  /**
   * The next message, waiting for one without blocking the event loop: the Promise resolves
   * with it, or with `null` when `timeout` seconds pass first (absent or negative: no limit; 0:
   * only look). Takes `(timeout?, options?)` or `(options)` with `{ timeout?, signal? }`.
   * Pending receives are served in call order. Rejects with `signal.reason` when aborted, and
   * with `IpcError` `ECANCELED` when the receiver is closed meanwhile. A pending receive keeps
   * the process alive, like a socket read.
   */
  receive(timeout?: number, options?: WaitOptions): Promise<T | null>;
  receive(options: WaitOptions): Promise<T | null>;
  receive(timeoutOrOptions?: number | WaitOptions, options?: WaitOptions): Promise<T | null> {
    if (timeoutOrOptions === undefined && options === undefined) {
      return this.#core.receive(-1, undefined, null) as Promise<T | null>;
    }
    let timeout: number;
    let signal: AbortSignal | undefined;
    try {
      ({ timeout, signal } = waitArgs(timeoutOrOptions, options));
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#core.receive(timeout, signal, null) as Promise<T | null>;
  }

  /**
   * The next message, blocking the thread until one comes or `timeout` seconds pass (`null`).
   * In a worker, `terminate()` ends the wait within 100 ms.
   */
  receiveSync(timeout?: number): T | null {
    return this.#core.receiveSync(checkTimeout(timeout));
  }

  /**
   * Every message, as they come: `for await (const msg of rx)`. Ends when the receiver is
   * closed; `break` leaves it open.
   */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    const core = this.#core;
    let ended = false;
    const iterator: AsyncIterator<T> = {
      next: () =>
        (ended
          ? Promise.resolve({ value: undefined, done: true })
          : core.next(iterator)) as Promise<IteratorResult<T>>,
      return: () => {
        // Its pending next()s end too: nothing would settle them otherwise.
        ended = true;
        core.endIterator(iterator);
        return Promise.resolve({ value: undefined, done: true });
      },
    };
    return iterator;
  }

  /**
   * Closes the receiver; idempotent. Pending receives reject with `IpcError` `ECANCELED`,
   * iterators end, and what was still in the rings is discarded. Removes the channel's names
   * (if they are still this channel's): senders fail with `EPIPE`, new `connect()`s with
   * `ENOENT`.
   */
  close(): void {
    this.#core.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * The sending end of a channel, made by {@link connect}: a ring of its own in the channel's
 * segment. Not transferable: a worker thread connects by name.
 */
export class Sender implements Disposable {
  /** The channel's name. */
  readonly name: string;
  /** The largest message in bytes. */
  readonly maxMessage: number;
  readonly #core: SenderCore;

  /** @internal Made by {@link connect}. */
  constructor(token: symbol, core: SenderCore) {
    if (token !== CONSTRUCT) throw illegalConstructor('Sender handles are made by connect()');
    this.#core = core;
    this.name = core.name;
    this.maxMessage = core.maxMessage;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#core.closed;
  }

  /**
   * Sends `data` (a string, sent as UTF-8, or any `ArrayBufferView`'s bytes) if the ring has
   * room, after any pending {@link send}; `false` when it has not. Never waits. Throws
   * `IpcError` `EPIPE` once the receiver is gone.
   */
  trySend(data: string | ArrayBufferView): boolean {
    const payload = toPayload(data, this.#core.maxMessage);
    return this.#core.trySend(payload, payloadLength);
  }

  /**
   * Sends `data`, waiting for room without blocking the event loop: resolves `true` once it is
   * in the ring, `false` when `timeout` seconds pass first (absent or negative: no limit; 0:
   * only try). Takes `(data, timeout?, options?)` or `(data, options)` with `{ timeout?,
   * signal? }`. Pending sends go out in call order. Don't change `data` until the Promise
   * settles (as with `fs.write`). Rejects with `IpcError` `EPIPE` when the receiver is gone
   * (a send waiting for room notices within a second), with `signal.reason` when aborted and
   * with `ECANCELED` when the sender is closed meanwhile.
   */
  send(data: string | ArrayBufferView, timeout?: number, options?: WaitOptions): Promise<boolean>;
  send(data: string | ArrayBufferView, options: WaitOptions): Promise<boolean>;
  send(
    data: string | ArrayBufferView,
    timeoutOrOptions?: number | WaitOptions,
    options?: WaitOptions,
  ): Promise<boolean> {
    let payload: Payload;
    let timeout: number;
    let signal: AbortSignal | undefined;
    try {
      if (this.#core.closed) throw closedError('channel');
      payload = toPayload(data, this.#core.maxMessage);
      ({ timeout, signal } = waitArgs(timeoutOrOptions, options));
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#core.send(payload, payloadLength, timeout, signal);
  }

  /**
   * Sends `data`, blocking the thread until there is room or `timeout` seconds pass (`false`).
   * In a worker, `terminate()` ends the wait within 100 ms.
   */
  sendSync(data: string | ArrayBufferView, timeout?: number): boolean {
    const payload = toPayload(data, this.#core.maxMessage);
    const length = payloadLength;
    return this.#core.sendSync(payload, length, checkTimeout(timeout));
  }

  /**
   * Closes the sender; idempotent. What it sent is still delivered; pending sends reject with
   * `IpcError` `ECANCELED`. Its ring is freed once the receiver has taken everything in it.
   */
  close(): void {
    this.#core.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** The byte length of the last {@link toPayload} (no array per message). */
let payloadLength = 0;

function toPayload(data: unknown, max: number): Payload {
  let payload: Payload;
  if (typeof data === 'string') {
    payload = data;
    payloadLength = Buffer.byteLength(data, 'utf8');
  } else if (ArrayBuffer.isView(data)) {
    // A view whose buffer was transferred reads as empty (or throws, for a DataView): refused
    // up front, as Node refuses it, rather than sent as an empty message or failing mid-copy.
    if (data.buffer.byteLength === 0 && isDetached(data.buffer)) {
      // Its buffer is what is shown: inspecting a detached DataView throws.
      throw invalidArgValue(
        'data',
        data.buffer,
        'must not be detached (its buffer was transferred)',
      );
    }
    payload =
      data instanceof Uint8Array
        ? data
        : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    payloadLength = data.byteLength;
  } else {
    throw invalidArgType(
      'data',
      'of type string or an instance of Buffer, TypedArray, or DataView',
      data,
    );
  }
  if (payloadLength > max) {
    throw outOfRange('data', `at most ${max} bytes long (the channel's maxMessage)`, payloadLength);
  }
  return payload;
}

/** Whether `buffer` (of length 0) was detached: Node 20 has no `ArrayBuffer#detached`. */
function isDetached(buffer: ArrayBufferLike): boolean {
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

/**
 * A channel name (see `checkName`); the segment is '/' + name. On Linux glibc keeps POSIX
 * semaphores as shm objects named `sem.<name>`: such a name is refused, as @luaipc/shm does.
 */
function checkChannelName(name: unknown, syscall: string): string {
  const checked = checkName(name, syscall, addon.NAME_MAX);
  if (process.platform === 'linux' && checked.startsWith('sem.')) {
    throw invalidArgValue(
      'name',
      checked,
      "must not start with 'sem.' (on Linux that is where POSIX semaphores live)",
    );
  }
  return checked;
}

/**
 * Creates the channel `name` and returns its receiver. Fails with `IpcError` `EEXIST` when the
 * name is taken (also by a channel whose receiver was killed: {@link unlink} it first). The
 * segment is `'/' + name` (mode 0600); beside it live a lock file and doorbells (see the README).
 * The receiver's `close()`, its collection by GC or the process's end removes them all.
 */
export function create(name: string): Receiver<Buffer>;
export function create<E extends Encoding = 'buffer'>(
  name: string,
  options: ReceiverOptions<E>,
): Receiver<DataOf<E>>;
export function create<E extends Encoding>(
  name: string,
  options?: ReceiverOptions<E>,
): Receiver<DataOf<E>> {
  checkChannelName(name, 'shm_open');
  const o = checkOptions(options) as ReceiverOptions<E>;
  const capacity = roundCapacity(
    o.capacity === undefined
      ? DEFAULT_CAPACITY
      : checkInteger(o.capacity, 'options.capacity', 1, MAX_CAPACITY),
  );
  const lanes =
    o.maxSenders === undefined
      ? DEFAULT_SENDERS
      : checkInteger(o.maxSenders, 'options.maxSenders', 1, MAX_SENDERS);
  const encoding: Encoding = o.encoding === undefined ? 'buffer' : checkEncoding(o);
  const g: Geometry = {
    lanes,
    capacity,
    headerBytes: headerBytesFor(lanes),
    maxMessage: maxMessageFor(capacity),
    dir: addon.DIR,
  };
  const size = segmentBytes(lanes, capacity);
  if (size > MAX_SEGMENT) {
    throw outOfRange(
      'options.capacity',
      `at most ${Math.floor((MAX_SEGMENT - g.headerBytes) / lanes)} with ${lanes} senders`,
      o.capacity,
    );
  }
  const segment = new addon.Segment(name, true, size, g.headerBytes);
  let locks: NativeLocks | undefined;
  let bell: NativeBell | undefined;
  try {
    locks = new addon.Locks(name, g.dir);
    if (!locks.trylock(LOCK_RECEIVER)) throw new IpcError('EBUSY', 'fcntl', { path: name });
    bell = new addon.Bell(name, g.dir, -1, 2);
    const ab = segment.view();
    const bytes = Buffer.from(ab);
    writeHeader(bytes, g, process.pid);
    // The magic last: a sender that sees it finds the rest in place (lock held, doorbell made).
    bytes.write(MAGIC.slice(4), H_MAGIC + 4, 'latin1');
    Atomics.store(new Int32Array(ab), H_MAGIC >> 2, Buffer.from(MAGIC, 'latin1').readInt32LE(0));
    const core = new ReceiverCore<DataOf<E>>({ name, segment, locks, bell, geometry: g, encoding });
    return new Receiver<DataOf<E>>(CONSTRUCT, core);
  } catch (error) {
    bell?.close();
    locks?.close();
    segment.close();
    throw error;
  }
}

/** How long connect() waits for the registration lock before it gives up. */
const REGISTER_WAIT_MS = 5000;

function refused(name: string): IpcError {
  return new IpcError('ECONNREFUSED', 'connect', { path: name });
}

/**
 * How long connect() waits for a channel that is being created (its header not written yet): a
 * creator can be descheduled for a good while on a busy machine, and a zero-filled segment that
 * is not a channel at all is rare enough to pay this wait before its EPROTO.
 */
const CREATING_WAIT_MS = 1000;

/**
 * Connects to the channel `name` as a new sender (any number of them, in any processes or
 * threads). Fails with `IpcError` `ENOENT` when there is no such channel, `ECONNREFUSED` when its
 * receiver is gone, `EPROTO` when the name is not a channel (a plain shm segment, another
 * version), `EAGAIN` when every sender slot is taken. A channel caught while it is being created
 * (the segment there, its header not yet) is waited for, briefly.
 */
export function connect(name: string): Sender {
  checkChannelName(name, 'shm_open');
  const deadline = performance.now() + CREATING_WAIT_MS;
  for (;;) {
    const sender = tryConnect(name, performance.now() < deadline);
    if (sender !== null) return sender;
    Atomics.wait(napWord, 0, 0, 1);
  }
}

/** connect() once; null when the channel is still being created and `wait` allows a retry. */
function tryConnect(name: string, wait: boolean): Sender | null {
  let segment: NativeSegment;
  try {
    segment = new addon.Segment(name, false, LANE_TABLE, MAX_SEGMENT);
  } catch (error) {
    if ((error as IpcError).code !== 'EPROTO') throw error;
    // Smaller than a header: being sized by its creator, or a plain shm segment.
    if (wait) return null;
    throw notAChannel(name, 'too small');
  }
  let locks: NativeLocks | undefined;
  let bell: NativeBell | undefined;
  try {
    const ab = segment.view();
    const words = new Int32Array(ab);
    // The magic's first word is stored last by the creator (its second word goes with the other
    // fields, before it): load it first. Not there yet: being created.
    if (Atomics.load(words, H_MAGIC >> 2) === 0 && wait) {
      segment.close();
      return null;
    }
    const g = readHeader(Buffer.from(ab), name);
    if (Atomics.load(words, H_STATE >> 2) !== RX_OPEN) throw refused(name);
    try {
      locks = new addon.Locks(name, g.dir);
    } catch (error) {
      throw (error as IpcError).code === 'ENOENT' ? refused(name) : error;
    }
    if (!locks.held(LOCK_RECEIVER)) throw refused(name);
    bell = new addon.Bell(name, g.dir, -1, 0);
    const { lane, tail } = claim(name, segment, locks, words, g);
    return new Sender(
      CONSTRUCT,
      new SenderCore({ name, segment, locks, bell, geometry: g, lane }, tail),
    );
  } catch (error) {
    bell?.close();
    locks?.close();
    segment.close();
    throw error;
  }
}

/** Takes a free slot: under the registration lock, with the slot's own lock held from now on. */
function claim(
  name: string,
  segment: NativeSegment,
  locks: NativeLocks,
  words: Int32Array,
  g: Geometry,
): { lane: number; tail: number } {
  const deadline = performance.now() + REGISTER_WAIT_MS;
  let nap = 0.05;
  while (!locks.trylock(LOCK_REGISTER)) {
    if (performance.now() > deadline) {
      throw new IpcError('ETIMEDOUT', 'connect', {
        path: name,
        description: "the channel's registration lock stayed taken",
      });
    }
    // Held for microseconds by whoever claims or frees a slot: nap, briefly, and retry.
    Atomics.wait(napWord, 0, 0, nap);
    nap = Math.min(nap * 2, 10);
  }
  try {
    for (let lane = 0; lane < g.lanes; lane++) {
      const block = laneBlock(lane);
      if (Atomics.load(words, (block + L_STATE) >> 2) !== LANE_FREE) continue;
      if (!locks.trylock(LOCK_LANE + lane)) continue;
      try {
        segment.reserve(g.headerBytes + lane * g.capacity, g.capacity);
      } catch (error) {
        locks.unlock(LOCK_LANE + lane);
        throw error;
      }
      const head = Atomics.load(words, (block + L_HEAD) >> 2);
      Atomics.store(words, (block + L_TAIL) >> 2, head);
      Atomics.store(words, (block + L_WAITING) >> 2, 0);
      Atomics.store(words, (block + L_PID) >> 2, process.pid);
      Atomics.store(
        words,
        (block + L_CLAIMS) >> 2,
        (Atomics.load(words, (block + L_CLAIMS) >> 2) + 1) | 0,
      );
      Atomics.store(words, (block + L_STATE) >> 2, LANE_ACTIVE);
      Atomics.store(
        words,
        H_REGISTRATIONS >> 2,
        (Atomics.load(words, H_REGISTRATIONS >> 2) + 1) | 0,
      );
      return { lane, tail: head >>> 0 };
    }
  } finally {
    locks.unlock(LOCK_REGISTER);
  }
  throw new IpcError('EAGAIN', 'connect', {
    path: name,
    description: `all ${g.lanes} sender slots are taken`,
  });
}

const napWord = new Int32Array(new SharedArrayBuffer(4));

/**
 * Removes the channel `name` (its segment, lock file and doorbells), e.g. one left by a receiver
 * that was killed. Its receiver and senders, if any, keep working with what they have mapped.
 * Fails with `IpcError` `ENOENT` when there is no such segment.
 */
export function unlink(name: string): void {
  checkChannelName(name, 'shm_unlink');
  addon.unlink(name);
}
