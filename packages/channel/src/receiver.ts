import { closedError, type Encoding, IpcError, TRUNCATED_CODE } from '@luaipc/filelike';
import { addon, type NativeBell, type NativeLocks, type NativeSegment } from './binding.js';
import { Doorbell, type Sleeper } from './doorbell.js';
import {
  type Geometry,
  H_REGISTRATIONS,
  H_SLEEPING,
  H_STATE,
  L_HEAD,
  L_STATE,
  L_TAIL,
  L_WAITING,
  LANE_ACTIVE,
  LANE_CLOSED,
  LANE_FREE,
  LOCK_LANE,
  LOCK_REGISTER,
  laneBlock,
  RECORD_ALIGN,
  RECORD_HEADER,
  RX_CLOSED,
} from './layout.js';
import { type Pending, PendingLine } from './pending.js';
import { TurnBudget } from './turn.js';

/** Bytes taken out of the rings in one go: the receiver goes back to the event loop after it. */
const BATCH_BYTES = 256 * 1024;
/** Messages taken in one go (small messages reach this before BATCH_BYTES). */
const BATCH_MESSAGES = 4096;
/**
 * Small messages arrive as views of a private copy of this many ring bytes, as Buffers from
 * Buffer.allocUnsafe share Node's 8 KiB pool: one copy per chunk instead of one per message.
 * A message kept alive keeps its chunk.
 */
const CHUNK = 8 * 1024;
/** Text is decoded from a reused private copy of up to this many bytes. */
const TEXT_CHUNK = 64 * 1024;

/** A Buffer over part of an ArrayBuffer, made without Buffer.from's checks (a FastBuffer). */
class ChunkView extends Uint8Array {
  // Spelled out: a derived class's implicit constructor forwards ...args.
  constructor(buffer: ArrayBuffer, offset: number, length: number) {
    super(buffer, offset, length);
  }
}
Object.setPrototypeOf(ChunkView.prototype, Buffer.prototype);
Object.defineProperty(ChunkView.prototype, 'constructor', { value: Buffer });

interface PendingReceive<T> extends Pending<T | null | IteratorResult<T>> {
  /**
   * The iterator whose next() this is (resolved `{ done: true }` at close, or when that
   * iterator's return() is called, instead of rejected); null for receive().
   */
  iterator: object | null;
}

/** What a receiver needs from the objects `create()` made. */
export interface ReceiverParts {
  name: string;
  segment: NativeSegment;
  locks: NativeLocks;
  bell: NativeBell;
  geometry: Geometry;
  encoding: Encoding;
}

/**
 * The receiving end of a channel (made by `create()`). Reads every sender's ring from
 * JavaScript: a batch at a time, each message copied out into memory of its own.
 * @internal The public class is `Receiver` in index.ts.
 */
export class ReceiverCore<T extends string | Buffer> implements Sleeper {
  readonly name: string;
  readonly encoding: Encoding;
  readonly capacity: number;
  readonly maxMessage: number;
  readonly lanes: number;

  #segment: NativeSegment;
  readonly #locks: NativeLocks;
  readonly #doorbell: Doorbell;
  #bytes: Buffer;
  #words: Int32Array;
  readonly #epoch: Uint32Array;
  #epochSeen: number;
  readonly #headerBytes: number;
  readonly #mask: number;
  readonly #dirCode: number;

  /** Slots to read (active or closed but not yet drained), refreshed when H_REGISTRATIONS moves. */
  #active: number[] = [];
  #registrations = -1;
  #next = 0;
  /** Our copy of each slot's head (we are its only writer). */
  readonly #heads: Uint32Array;
  /** Doorbells of senders waiting for room, connected on first need. */
  readonly #laneBells = new Map<number, NativeBell>();

  /**
   * Messages taken out of the rings and not yet handed out: [#queueAt, #queueEnd). The array
   * keeps its length between batches (truncating it would free and regrow it every batch).
   */
  readonly #queue: (T | null)[] = [];
  #queueAt = 0;
  #queueEnd = 0;
  readonly #pending = new PendingLine<PendingReceive<T>>();
  #scratch: Buffer | null = null;
  #closed = false;
  #broken: IpcError | null = null;
  #serveScheduled = false;
  /** The number of our last sleep: what `sleeping` holds while we sleep (see #sleep()). */
  #sleeps = 0;
  readonly #turn = new TurnBudget();

  constructor(parts: ReceiverParts) {
    this.name = parts.name;
    this.encoding = parts.encoding;
    this.#segment = parts.segment;
    this.#locks = parts.locks;
    const g = parts.geometry;
    this.capacity = g.capacity;
    this.maxMessage = g.maxMessage;
    this.lanes = g.lanes;
    this.#headerBytes = g.headerBytes;
    this.#mask = g.capacity - 1;
    this.#dirCode = g.dir;
    const ab = parts.segment.view();
    this.#bytes = Buffer.from(ab);
    this.#words = new Int32Array(ab);
    this.#epoch = addon.faultEpoch;
    this.#epochSeen = this.#epoch[0] as number;
    this.#heads = new Uint32Array(g.lanes);
    this.#doorbell = new Doorbell(parts.bell, this);
  }

  get closed(): boolean {
    return this.#closed;
  }

  // ---- taking messages ----

  /** The next message, without waiting; null when there is none. */
  tryReceive(): T | null {
    this.#check();
    if (this.#pending.items.length > 0) this.#serve();
    return this.#take();
  }

  receiveSync(timeout: number): T | null {
    this.#check();
    if (this.#pending.items.length > 0) this.#serve();
    let msg = this.#take();
    if (msg !== null || timeout === 0) return msg;
    const deadline = timeout < 0 ? -1 : performance.now() + timeout * 1000;
    const words = this.#words;
    for (;;) {
      this.#sleep();
      msg = this.#take();
      if (msg !== null) break;
      // At most a second per sleep: the safety look (see tick()).
      const left = deadline < 0 ? 1 : Math.min(1, (deadline - performance.now()) / 1000);
      if (left <= 0) break;
      const rung = this.#doorbell.waitSync(left);
      if (rung === undefined) break;
      this.#check();
      Atomics.store(words, H_SLEEPING >> 2, 0);
      msg = this.#take();
      if (msg !== null) break;
    }
    this.#settleSleep();
    return msg;
  }

  /** A Promise of the next message (null at the timeout); `iterator`: for `for await`. */
  receive(
    timeout: number,
    signal: AbortSignal | undefined,
    iterator: object | null,
  ): Promise<unknown> {
    if (this.#closed) {
      return iterator
        ? Promise.resolve({ value: undefined, done: true })
        : Promise.reject(closedError('channel'));
    }
    if (this.#broken !== null) return Promise.reject(this.#broken);
    // An aborted signal takes nothing, even when a message is waiting (Node's rule).
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#queueAt < this.#queueEnd && this.#pending.items.length === 0 && this.#turn.allow()) {
      const msg = this.#shift();
      return Promise.resolve(iterator ? { value: msg, done: false } : msg);
    }
    // timeout 0 only looks, now; other receives settle at once only while this turn of the
    // event loop is young (TurnBudget), else on the next one.
    const now = this.#pending.items.length === 0 && (timeout === 0 || this.#turn.allow());
    if (now) {
      let msg: T | null;
      try {
        msg = this.#take();
      } catch (error) {
        return Promise.reject(error);
      }
      if (msg !== null) return Promise.resolve(iterator ? { value: msg, done: false } : msg);
      if (timeout === 0) return Promise.resolve(iterator ? { value: undefined, done: true } : null);
    }
    return new Promise((resolve, reject) => {
      const p: PendingReceive<T> = {
        resolve: resolve as PendingReceive<T>['resolve'],
        reject,
        iterator,
        cancelTimer: undefined,
        forget: undefined,
      };
      this.#pending.add(
        p,
        timeout,
        signal,
        (q) => this.#expire(q),
        (q, reason) => this.#abort(q, reason),
      );
      if (now) this.#serve();
      else this.#scheduleServe();
    });
  }

  // ---- waking ----

  rung(): void {
    if (this.#closed) return;
    Atomics.store(this.#words, H_SLEEPING >> 2, 0);
    this.#serve();
  }

  tick(): void {
    if (this.#closed) return;
    this.sweep();
    this.#serve();
  }

  /**
   * Hands queued messages to pending receives in call order, taking more from the rings as
   * needed, one batch per turn of the event loop; then sleeps on the doorbell if receives are
   * still pending.
   */
  #serve(): void {
    const pending = this.#pending.items;
    while (pending.length > 0) {
      let msg: T | null;
      try {
        if (this.#queueAt < this.#queueEnd || this.#turn.allow()) msg = this.#take();
        else {
          // This turn has lasted long enough: the rest on the next one, after timers and I/O.
          this.#scheduleServe();
          return;
        }
      } catch (error) {
        this.#failAll(error);
        return;
      }
      if (msg === null) break;
      const p = this.#pending.shift();
      p.resolve(p.iterator ? { value: msg, done: false } : msg);
    }
    if (pending.length === 0) {
      this.#settleSleep();
      return;
    }
    // Nothing left: publish that we sleep, then look once more (a sender that published just
    // before our store sees no sleeper and rings nobody; this look finds its record).
    this.#sleep();
    try {
      this.#fill();
    } catch (error) {
      this.#failAll(error);
      return;
    }
    if (this.#queueAt < this.#queueEnd) {
      Atomics.store(this.#words, H_SLEEPING >> 2, 0);
      this.#scheduleServe();
      return;
    }
    this.#doorbell.listen();
  }

  /**
   * Publishes that we sleep, under a number of its own (never 0, which says awake): a sender
   * rings once per number and never writes the word, so no sender, stopped at any point of its
   * send, keeps another from ringing.
   */
  #sleep(): void {
    this.#sleeps = this.#sleeps >= 0x7fffffff ? 1 : this.#sleeps + 1;
    Atomics.store(this.#words, H_SLEEPING >> 2, this.#sleeps);
  }

  #scheduleServe(): void {
    if (this.#serveScheduled) return;
    this.#serveScheduled = true;
    setImmediate(() => {
      this.#serveScheduled = false;
      if (!this.#closed) this.#serve();
    });
  }

  /** No wait left: stop listening and let senders stop ringing. */
  #settleSleep(): void {
    if (this.#pending.items.length > 0) {
      // Promise-form receives are still waiting (a Sync call came between): keep them served.
      this.#serve();
      return;
    }
    if (!this.#closed) Atomics.store(this.#words, H_SLEEPING >> 2, 0);
    this.#doorbell.stop();
  }

  /** A pending receive whose timeout came: null (or the end of an iteration). */
  #expire(p: PendingReceive<T>): void {
    p.resolve(p.iterator ? { value: undefined, done: true } : null);
    if (this.#pending.items.length === 0) this.#settleSleep();
  }

  #abort(p: PendingReceive<T>, reason: unknown): void {
    p.reject(reason);
    if (this.#pending.items.length === 0) this.#settleSleep();
  }

  #failAll(error: unknown): void {
    this.#pending.rejectAll(error);
    this.#settleSleep();
  }

  // ---- the rings ----

  #shift(): T | null {
    const msg = this.#queue[this.#queueAt] as T;
    this.#queue[this.#queueAt++] = null;
    if (this.#queueAt === this.#queueEnd) {
      this.#queueAt = 0;
      this.#queueEnd = 0;
    }
    return msg;
  }

  /**
   * `for await`'s next(): a queued message at once while this turn of the event loop is young,
   * else what receive() does.
   */
  next(iterator: object): Promise<unknown> {
    if (this.#queueAt < this.#queueEnd && this.#pending.items.length === 0 && this.#turn.allow()) {
      return Promise.resolve({ value: this.#shift(), done: false });
    }
    return this.receive(-1, undefined, iterator);
  }

  /** An iterator's return(): its pending next()s end (`{ done: true }`), taking nothing. */
  endIterator(iterator: object): void {
    const ended = this.#pending.items.filter((p) => p.iterator === iterator);
    for (const p of ended) {
      this.#pending.remove(p);
      p.resolve({ value: undefined, done: true });
    }
    if (ended.length > 0 && this.#pending.items.length === 0) this.#settleSleep();
  }

  /** The next message: queued, or from a new batch; null when the rings are empty. */
  #take(): T | null {
    if (this.#queueAt < this.#queueEnd) return this.#shift();
    this.#fill();
    return this.#queueAt < this.#queueEnd ? this.#shift() : null;
  }

  /** Takes a batch out of the rings into #queue, a fair share from each sender. */
  #fill(): void {
    if (this.#broken !== null) throw this.#broken;
    const words = this.#words;
    const registrations = Atomics.load(words, H_REGISTRATIONS >> 2);
    if (registrations !== this.#registrations) this.#refresh(registrations);
    const active = this.#active;
    const n = active.length;
    let budget = BATCH_BYTES;
    let count = BATCH_MESSAGES;
    const start = n === 0 ? 0 : this.#next++ % n;
    for (let i = 0; i < n && budget > 0 && count > 0; i++) {
      const lane = active[(start + i) % n] as number;
      const share = i === n - 1 ? budget : Math.max(budget >> 1, 1);
      const taken = this.#drainLane(lane, share, count);
      budget -= taken.bytes;
      count -= taken.messages;
    }
    // Copy first, check after: what was read while a page was being replaced is not handed out.
    if (this.#epoch[0] !== this.#epochSeen) this.#checkTruncation();
  }

  #refresh(registrations: number): void {
    this.#registrations = registrations;
    const words = this.#words;
    const active: number[] = [];
    for (let lane = 0; lane < this.lanes; lane++) {
      const state = Atomics.load(words, (laneBlock(lane) + L_STATE) >> 2);
      if (state === LANE_ACTIVE || state === LANE_CLOSED) {
        active.push(lane);
        this.#heads[lane] = Atomics.load(words, (laneBlock(lane) + L_HEAD) >> 2);
      }
    }
    this.#active = active;
  }

  /**
   * Takes up to `budget` bytes (at least one message) from slot `lane`'s ring. The records are
   * copied out a chunk at a time and read from the copy: a length is read once, from memory no
   * other process can change, and a message is a view of the copy (or of memory of its own).
   */
  #drainLane(lane: number, budget: number, count: number): { bytes: number; messages: number } {
    const words = this.#words;
    const block = laneBlock(lane);
    const tail = Atomics.load(words, (block + L_TAIL) >> 2) >>> 0;
    let head = this.#heads[lane] as number;
    let avail = (tail - head) >>> 0;
    if (avail === 0) {
      if (Atomics.load(words, (block + L_STATE) >> 2) === LANE_CLOSED) this.#reclaim(lane);
      return EMPTY;
    }
    const cap = this.capacity;
    if (avail > cap || avail % RECORD_ALIGN !== 0) return this.#discard(lane, tail);
    const ring = this.#headerBytes + lane * cap;
    const mask = this.#mask;
    const max = this.maxMessage;
    const text = this.encoding !== 'buffer';
    const queue = this.#queue;
    let taken = 0;
    let messages = 0;
    while (avail > 0 && (messages === 0 || (taken < budget && messages < count))) {
      const want = Math.min(avail, text ? TEXT_CHUNK : CHUNK);
      const chunk = text ? this.#scratchOf(want) : Buffer.allocUnsafeSlow(want);
      this.#copyOut(chunk, 0, ring, head & mask, want);
      let at = 0;
      while (at + RECORD_HEADER <= want && messages < count) {
        // Unsigned (>>> 0): a garbage length of 2^31 or more must fail the check below, not
        // turn negative and pass it.
        const length =
          ((chunk[at] as number) |
            ((chunk[at + 1] as number) << 8) |
            ((chunk[at + 2] as number) << 16) |
            ((chunk[at + 3] as number) << 24)) >>>
          0;
        const record = (RECORD_HEADER + length + RECORD_ALIGN - 1) & ~(RECORD_ALIGN - 1);
        if (length > max || record > avail - at) return this.#discard(lane, tail);
        if (at + record > want) {
          if (at > 0) break;
          // One message larger than a chunk: memory of its own, copied straight in.
          queue[this.#queueEnd++] = this.#large(ring, (head + RECORD_HEADER) & mask, length);
        } else if (text) {
          queue[this.#queueEnd++] = chunk.toString(
            this.encoding,
            at + RECORD_HEADER,
            at + RECORD_HEADER + length,
          ) as T;
        } else {
          queue[this.#queueEnd++] = new ChunkView(
            chunk.buffer as ArrayBuffer,
            at + RECORD_HEADER,
            length,
          ) as unknown as T;
        }
        at += record;
        messages++;
        if (taken + at >= budget) break;
      }
      head = (head + at) >>> 0;
      avail -= at;
      taken += at;
    }
    this.#heads[lane] = head;
    Atomics.store(words, (block + L_HEAD) >> 2, head | 0);
    // A sender waiting for room is rung once half the ring (or what it needs, if more) is free:
    // not at every batch, which would wake it for a sliver of room each time.
    const needed = Atomics.load(words, (block + L_WAITING) >> 2) >>> 0;
    if (needed !== 0 && cap - ((tail - head) >>> 0) >= Math.max(needed, cap >>> 1)) {
      this.#ringLane(lane);
    }
    return { bytes: taken, messages };
  }

  /** Copies `length` ring bytes from ring offset `at` (wrapping at the ring's end) to `out`. */
  #copyOut(out: Buffer, to: number, ring: number, at: number, length: number): void {
    const first = Math.min(length, this.capacity - at);
    this.#bytes.copy(out, to, ring + at, ring + at + first);
    if (first < length) this.#bytes.copy(out, to + first, ring, ring + length - first);
  }

  /** A message too large for a chunk, in memory of its own (decoded from it, for text). */
  #large(ring: number, at: number, length: number): T {
    const out = Buffer.allocUnsafeSlow(length);
    this.#copyOut(out, 0, ring, at, length);
    return (this.encoding === 'buffer' ? out : out.toString(this.encoding)) as T;
  }

  /** The reused private buffer text is decoded from (strings keep nothing of it). */
  #scratchOf(size: number): Buffer {
    if (this.#scratch === null) this.#scratch = Buffer.allocUnsafeSlow(TEXT_CHUNK);
    return size <= TEXT_CHUNK ? this.#scratch : Buffer.allocUnsafeSlow(size);
  }

  /** A slot holding garbage (a hostile or broken sender): what is in it is dropped. */
  #discard(lane: number, tail: number): { bytes: number; messages: number } {
    this.#heads[lane] = tail;
    Atomics.store(this.#words, (laneBlock(lane) + L_HEAD) >> 2, tail | 0);
    return EMPTY;
  }

  #checkTruncation(): void {
    this.#epochSeen = this.#epoch[0] as number;
    if (this.#segment.truncated()) {
      // The lost pages read as zeros now: nothing taken since can be trusted.
      this.#queue.length = 0;
      this.#queueAt = 0;
      this.#queueEnd = 0;
      this.#broken = new IpcError(TRUNCATED_CODE, 'read', {
        path: this.name,
        description: 'channel segment was truncated',
      });
      throw this.#broken;
    }
  }

  /** Rings the doorbell of a sender waiting for room in slot `lane`. */
  #ringLane(lane: number): void {
    let bell = this.#laneBells.get(lane);
    if (bell === undefined) {
      try {
        bell = new addon.Bell(this.name, this.#dirCode, lane, 0);
      } catch {
        // Nobody listens: the sender is gone (a sender makes its doorbell before it says it
        // waits). Had it only stepped away, it looks again within a second by itself.
        return;
      }
      this.#laneBells.set(lane, bell);
    }
    if (bell.ring() !== 0) {
      bell.close();
      this.#laneBells.delete(lane);
    }
  }

  // ---- senders coming and going ----

  /**
   * Counts the live senders, and frees the slots of those that closed or died once everything
   * they committed was taken (their locks tell: the OS drops a dead process's locks).
   */
  sweep(): number {
    if (this.#closed) return 0;
    const words = this.#words;
    let live = 0;
    for (let lane = 0; lane < this.lanes; lane++) {
      const state = Atomics.load(words, (laneBlock(lane) + L_STATE) >> 2);
      if (state === LANE_FREE) continue;
      if (state === LANE_ACTIVE && this.#locks.held(LOCK_LANE + lane)) {
        live++;
        continue;
      }
      this.#reclaim(lane);
    }
    return live;
  }

  /** Frees slot `lane` if its sender is gone and its ring is empty. */
  #reclaim(lane: number): void {
    const words = this.#words;
    const block = laneBlock(lane);
    const tail = Atomics.load(words, (block + L_TAIL) >> 2) >>> 0;
    if (
      !isLaneState(Atomics.load(words, (block + L_STATE) >> 2)) &&
      !this.#locks.held(LOCK_LANE + lane)
    ) {
      // A state no peer writes (a hostile or broken one), and nobody holds the slot: nothing
      // in it can be delivered, and no claim takes a slot that is not free. Dropped, then freed.
      this.#discard(lane, tail);
    }
    const head = Atomics.load(words, (block + L_HEAD) >> 2) >>> 0;
    if (tail !== head) return;
    if (!this.#locks.trylock(LOCK_REGISTER)) return;
    try {
      const state = Atomics.load(words, (block + L_STATE) >> 2);
      if (state === LANE_FREE) return;
      if (state !== LANE_CLOSED && this.#locks.held(LOCK_LANE + lane)) return;
      Atomics.store(words, (block + L_STATE) >> 2, LANE_FREE);
      Atomics.store(words, (block + L_WAITING) >> 2, 0);
      // The next claim starts at this head: 0, whatever a hostile peer left (records are
      // 8-byte aligned from it).
      Atomics.store(words, (block + L_HEAD) >> 2, 0);
      this.#heads[lane] = 0;
      Atomics.store(
        words,
        H_REGISTRATIONS >> 2,
        (Atomics.load(words, H_REGISTRATIONS >> 2) + 1) | 0,
      );
      this.#laneBells.get(lane)?.close();
      this.#laneBells.delete(lane);
      addon.removeBell(this.name, this.#dirCode, lane);
      this.#segment.discard(this.#headerBytes + lane * this.capacity, this.capacity);
    } finally {
      this.#locks.unlock(LOCK_REGISTER);
    }
  }

  // ---- closing ----

  #check(): void {
    if (this.#closed) throw closedError('channel');
    if (this.#broken !== null) throw this.#broken;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      Atomics.store(this.#words, H_STATE >> 2, RX_CLOSED);
      // Senders waiting for room learn it from their doorbells at once.
      for (let lane = 0; lane < this.lanes; lane++) {
        if (Atomics.load(this.#words, (laneBlock(lane) + L_WAITING) >> 2) !== 0)
          this.#ringLane(lane);
      }
    } catch {
      // A truncated segment: the state could not be published; senders see the lock go.
    }
    const pending = this.#pending.takeAll();
    this.#queue.length = 0;
    this.#queueAt = 0;
    this.#queueEnd = 0;
    for (const bell of this.#laneBells.values()) bell.close();
    this.#laneBells.clear();
    this.#doorbell.close();
    this.#locks.close();
    // Our views go before the handle, so the mapping is released now (no Buffer of ours holds it).
    this.#bytes = Buffer.alloc(0);
    this.#words = new Int32Array(0);
    this.#segment.close();
    for (const p of pending) {
      if (p.iterator) p.resolve({ value: undefined, done: true });
      else p.reject(new IpcError('ECANCELED', 'receive', { path: this.name }));
    }
  }
}

const EMPTY = { bytes: 0, messages: 0 };

const isLaneState = (state: number): boolean =>
  state === LANE_FREE || state === LANE_ACTIVE || state === LANE_CLOSED;
