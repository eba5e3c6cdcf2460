import { closedError, IpcError, TRUNCATED_CODE } from '@luaipc/filelike';
import { addon, type NativeBell, type NativeLocks, type NativeSegment } from './binding.js';
import { Doorbell, type Sleeper } from './doorbell.js';
import {
  type Geometry,
  H_SLEEPING,
  H_STATE,
  L_HEAD,
  L_STATE,
  L_TAIL,
  L_WAITING,
  LANE_CLOSED,
  LOCK_RECEIVER,
  laneBlock,
  RECORD_ALIGN,
  RECORD_HEADER,
  RX_OPEN,
} from './layout.js';
import { type Pending, PendingLine } from './pending.js';
import { TurnBudget } from './turn.js';

/** A message as the ring takes it: a string (written as UTF-8) or bytes, and its byte length. */
export type Payload = string | Uint8Array;

interface PendingSend extends Pending<boolean> {
  data: Payload;
  length: number;
}

export interface SenderParts {
  name: string;
  segment: NativeSegment;
  locks: NativeLocks;
  /** The receiver's doorbell, connected. */
  bell: NativeBell;
  geometry: Geometry;
  lane: number;
}

/** How often a sender that finds the ring full asks whether the receiver still lives. */
const PROBE_MS = 1000;

/**
 * The sending end of a channel (made by `connect()`): owns one slot, whose ring it writes from
 * JavaScript with no system call per message while the receiver is awake.
 * @internal The public class is `Sender` in index.ts.
 */
export class SenderCore implements Sleeper {
  readonly name: string;
  readonly capacity: number;
  readonly maxMessage: number;
  readonly lane: number;

  #segment: NativeSegment;
  readonly #locks: NativeLocks;
  readonly #bell: NativeBell;
  #doorbell: Doorbell | null = null;
  #bytes: Buffer;
  #words: Int32Array;
  readonly #epoch: Uint32Array;
  #epochSeen: number;
  readonly #dir: number;
  readonly #ring: number;
  readonly #mask: number;
  readonly #tailAt: number;
  readonly #headAt: number;
  readonly #waitingAt: number;
  /** Our tail (we are its only writer) and the receiver's head as last read. */
  #tail: number;
  #head: number;
  readonly #queue = new PendingLine<PendingSend>();
  #probedAt = 0;
  /** The receiver's sleep we last rang for: one ring per sleep (see the README's protocol). */
  #rangFor = 0;
  #closed = false;
  readonly #turn = new TurnBudget();
  #failure: IpcError | null = null;

  constructor(parts: SenderParts, tail: number) {
    const g = parts.geometry;
    this.name = parts.name;
    this.capacity = g.capacity;
    this.maxMessage = g.maxMessage;
    this.lane = parts.lane;
    this.#segment = parts.segment;
    this.#locks = parts.locks;
    this.#bell = parts.bell;
    const ab = parts.segment.view();
    this.#bytes = Buffer.from(ab);
    this.#words = new Int32Array(ab);
    this.#epoch = addon.faultEpoch;
    this.#epochSeen = this.#epoch[0] as number;
    this.#dir = g.dir;
    this.#ring = g.headerBytes + parts.lane * g.capacity;
    this.#mask = g.capacity - 1;
    const block = laneBlock(parts.lane);
    this.#tailAt = (block + L_TAIL) >> 2;
    this.#headAt = (block + L_HEAD) >> 2;
    this.#waitingAt = (block + L_WAITING) >> 2;
    this.#tail = tail;
    this.#head = tail;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Writes the message if there is room, after any pending send(); never waits. */
  trySend(data: Payload, length: number): boolean {
    this.#check();
    if (this.#queue.items.length > 0 && !this.#flush()) return false;
    if (this.#write(data, length)) return true;
    this.#probe();
    return false;
  }

  sendSync(data: Payload, length: number, timeout: number): boolean {
    this.#check();
    if ((this.#queue.items.length === 0 || this.#flush()) && this.#write(data, length)) return true;
    if (timeout === 0) {
      this.#probe();
      return false;
    }
    const deadline = timeout < 0 ? -1 : performance.now() + timeout * 1000;
    const doorbell = this.#listener();
    const words = this.#words;
    let sent = false;
    for (;;) {
      Atomics.store(words, this.#waitingAt, this.#needed(length));
      if ((this.#queue.items.length === 0 || this.#flush()) && this.#write(data, length)) {
        sent = true;
        break;
      }
      const left = deadline < 0 ? 1 : Math.min(1, (deadline - performance.now()) / 1000);
      if (left <= 0) break;
      const rung = doorbell.waitSync(left);
      if (rung === undefined) break;
      this.#check();
      if (!rung) this.#probe(true);
      if ((this.#queue.items.length === 0 || this.#flush()) && this.#write(data, length)) {
        sent = true;
        break;
      }
    }
    if (this.#queue.items.length === 0) Atomics.store(words, this.#waitingAt, 0);
    return sent;
  }

  send(
    data: Payload,
    length: number,
    timeout: number,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    // An aborted signal takes nothing, even when the send could finish at once (Node's rule).
    if (signal?.aborted) return Promise.reject(signal.reason);
    // timeout 0 only tries, now; other sends settle at once only while this turn of the event
    // loop is young (TurnBudget), else on the next one.
    const now = this.#queue.items.length === 0 && (timeout === 0 || this.#turn.allow());
    if (now) {
      try {
        this.#check();
        if (this.#write(data, length)) return Promise.resolve(true);
        if (timeout === 0) {
          this.#probe();
          return Promise.resolve(false);
        }
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise<boolean>((resolve, reject) => {
      const p: PendingSend = {
        data,
        length,
        resolve,
        reject,
        cancelTimer: undefined,
        forget: undefined,
      };
      this.#queue.add(
        p,
        timeout,
        signal,
        (q) => this.#drop(q, false),
        (q, reason) => this.#drop(q, reason),
      );
      if (now || this.#queue.items.length > 1) this.#pump();
      else setImmediate(() => this.#pump());
    });
  }

  // ---- waiting for room ----

  rung(): void {
    if (!this.#closed) this.#pump();
  }

  tick(): void {
    if (this.#closed) return;
    try {
      this.#probe(true);
    } catch (error) {
      this.#failAll(error);
      return;
    }
    this.#pump();
  }

  /** Writes pending sends in order while they fit; if some are left, sleeps on the slot's doorbell. */
  #pump(): void {
    if (this.#closed) return;
    try {
      if (this.#flush()) {
        Atomics.store(this.#words, this.#waitingAt, 0);
        this.#doorbell?.stop();
        return;
      }
      // Our doorbell exists before our flag does: a receiver that sees the flag must find a
      // doorbell to ring, or the ring is lost and we wait for our once-a-second look.
      const doorbell = this.#listener();
      // Publish that we wait, then look once more: the receiver frees room and then reads
      // L_WAITING, so either it sees our flag and rings, or this look sees its room.
      Atomics.store(
        this.#words,
        this.#waitingAt,
        this.#needed((this.#queue.items[0] as PendingSend).length),
      );
      if (this.#flush()) {
        Atomics.store(this.#words, this.#waitingAt, 0);
        doorbell.stop();
        return;
      }
      doorbell.listen();
    } catch (error) {
      this.#failAll(error);
    }
  }

  /** Writes queued sends while they fit; true when none is left. */
  #flush(): boolean {
    const queue = this.#queue;
    while (queue.items.length > 0) {
      const p = queue.items[0] as PendingSend;
      if (!this.#write(p.data, p.length)) return false;
      queue.shift().resolve(true);
    }
    return true;
  }

  /** What L_WAITING says while we wait: the bytes the next record needs (never 0). */
  #needed(length: number): number {
    return (RECORD_HEADER + length + RECORD_ALIGN - 1) & ~(RECORD_ALIGN - 1);
  }

  #listener(): Doorbell {
    if (this.#doorbell === null) {
      const bell = new addon.Bell(this.name, this.#dir, this.lane, 1);
      // The receiver publishes its close before it removes the doorbells: one made after that
      // would stay for ever, so it is ours to remove.
      if (Atomics.load(this.#words, H_STATE >> 2) !== RX_OPEN) {
        bell.close();
        try {
          addon.removeBell(this.name, this.#dir, this.lane);
        } catch {
          // Gone already, or never a FIFO of ours: nothing to remove.
        }
        this.#checkOpen();
      }
      this.#doorbell = new Doorbell(bell, this);
    }
    return this.#doorbell;
  }

  /** A pending send that timed out (false) or was aborted (the reason); the next may fit now. */
  #drop(p: PendingSend, outcome: unknown): void {
    if (outcome === false) p.resolve(false);
    else p.reject(outcome);
    this.#pump();
  }

  #failAll(error: unknown): void {
    this.#queue.rejectAll(error);
    if (!this.#closed) Atomics.store(this.#words, this.#waitingAt, 0);
    this.#doorbell?.stop();
  }

  // ---- the ring ----

  /** Writes one record if it fits. Throws EPIPE once the receiver is gone. */
  #write(data: Payload, length: number): boolean {
    const words = this.#words;
    const cap = this.capacity;
    const record = (RECORD_HEADER + length + RECORD_ALIGN - 1) & ~(RECORD_ALIGN - 1);
    let tail = this.#tail;
    if (cap - ((tail - this.#head) >>> 0) < record) {
      const head = Atomics.load(words, this.#headAt) >>> 0;
      const used = (tail - head) >>> 0;
      if (used > cap) throw this.#fail('EPROTO', 'the receiver wrote a head outside the ring');
      this.#head = head;
      // A full ring says nothing about the receiver: a closed one must be EPIPE now, not
      // "full" until the next probe (its close() rings the senders waiting for room).
      if (cap - used < record) {
        this.#checkOpen();
        return false;
      }
    }
    this.#checkOpen();
    const ring = this.#ring;
    const off = tail & this.#mask;
    // A plain store: the Atomics.store of the tail below publishes it with the payload.
    words[(ring + off) >>> 2] = length;
    const at = (off + RECORD_HEADER) & this.#mask;
    const bytes = this.#bytes;
    if (at + length <= cap) {
      if (typeof data === 'string') bytes.write(data, ring + at, length, 'utf8');
      else bytes.set(data, ring + at);
    } else {
      const src = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      const first = cap - at;
      bytes.set(src.subarray(0, first), ring + at);
      bytes.set(src.subarray(first), ring);
    }
    tail = (tail + record) >>> 0;
    this.#tail = tail;
    if (this.#epoch[0] !== this.#epochSeen) this.#checkTruncation();
    Atomics.store(words, this.#tailAt, tail | 0);
    // The receiver publishes that it sleeps, then looks at the tails once more; we publish the
    // tail, then look at its flag. Sequentially consistent on both sides: one of us sees the other.
    const sleep = Atomics.load(words, H_SLEEPING >> 2);
    if (sleep !== 0 && sleep !== this.#rangFor) {
      this.#rangFor = sleep;
      this.#ringReceiver();
    }
    return true;
  }

  /** Throws EPIPE once the receiver has closed (or ENXIO when the segment was truncated). */
  #checkOpen(): void {
    if (Atomics.load(this.#words, H_STATE >> 2) !== RX_OPEN) {
      if (this.#epoch[0] !== this.#epochSeen) this.#checkTruncation();
      throw this.#fail('EPIPE');
    }
  }

  #ringReceiver(): void {
    const err = this.#bell.ring();
    if (err !== 0) throw this.#fail(IpcError.fromErrno(err, 'send').code);
  }

  /**
   * Whether the receiver still lives (its lock), asked at most once a second unless `now`:
   * EPIPE once it is gone, or closed.
   */
  #probe(now = false): void {
    const t = performance.now();
    if (!now && t - this.#probedAt < PROBE_MS) return;
    this.#probedAt = t;
    if (Atomics.load(this.#words, H_STATE >> 2) !== RX_OPEN) throw this.#fail('EPIPE');
    if (!this.#locks.held(LOCK_RECEIVER)) throw this.#fail('EPIPE');
  }

  #checkTruncation(): void {
    this.#epochSeen = this.#epoch[0] as number;
    if (this.#segment.truncated()) {
      throw this.#fail(TRUNCATED_CODE, 'channel segment was truncated');
    }
  }

  /** The channel is unusable from now on: every call throws this. */
  #fail(code: string, description?: string): IpcError {
    this.#failure ??= new IpcError(code, 'send', {
      path: this.name,
      ...(description === undefined ? {} : { description }),
    });
    return this.#failure;
  }

  #check(): void {
    if (this.#closed) throw closedError('channel');
    if (this.#failure !== null) throw this.#failure;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const pending = this.#queue.takeAll();
    try {
      const words = this.#words;
      Atomics.store(words, this.#waitingAt, 0);
      Atomics.store(words, (laneBlock(this.lane) + L_STATE) >> 2, LANE_CLOSED);
      // A sleeping receiver learns at once that one sender fewer is left.
      if (Atomics.load(words, H_SLEEPING >> 2) !== 0) this.#bell.ring();
    } catch {
      // A truncated segment: the receiver sees our lock go instead.
    }
    this.#doorbell?.close();
    this.#bell.close();
    this.#locks.close();
    this.#bytes = Buffer.alloc(0);
    this.#words = new Int32Array(0);
    this.#segment.close();
    for (const p of pending) {
      p.reject(new IpcError('ECANCELED', 'send', { path: this.name }));
    }
  }
}
