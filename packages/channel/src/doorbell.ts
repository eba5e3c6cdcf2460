import { type OnReadOpts, Socket, type SocketConstructorOpts } from 'node:net';
import { isMainThread } from 'node:worker_threads';
import type { NativeBell } from './binding.js';

/** What a doorbell wakes: a receiver (its doorbell) or a sender waiting for room (its slot's). */
export interface Sleeper {
  /** The doorbell rang: look again. */
  rung(): void;
  /** The once-a-second look while listening: catches what no ring announced (a dead peer). */
  tick(): void;
}

/** How often a listening doorbell looks on its own (the one periodic wake-up allowed). */
const TICK_MS = 1000;

/** Sleepers with a listening doorbell: kept alive while they wait, like a socket read. */
const listening = new Set<Sleeper>();

/** Sockets of doorbells whose owner was collected without close(). */
const orphans = new FinalizationRegistry<Socket>((socket) => socket.destroy());

const nextId = (() => {
  let id = 0;
  return () => {
    id = id >= 0xffffffff ? 1 : id + 1;
    return id;
  };
})();

/**
 * The waiting end of a doorbell, woken from the event loop: on POSIX the event loop polls a
 * descriptor of the FIFO itself (a `net.Socket` over it), so a ring costs the sleeper one hop;
 * where there is no such descriptor (Windows), a thread of ours waits and settles a Promise.
 * `listen()` makes the owner's `rung()` run on the JS thread whenever the doorbell rings (and
 * `tick()` once a second), and keeps the process alive; `stop()` ends both. Only a weak
 * reference leads from the socket to the owner, so an owner that is dropped unclosed is
 * collected (its socket is then destroyed).
 */
export class Doorbell {
  readonly native: NativeBell;
  readonly #owner: WeakRef<Sleeper>;
  #socket: Socket | null = null;
  #timer: NodeJS.Timeout | null = null;
  #waitId = 0;
  #listening = false;

  constructor(native: NativeBell, owner: Sleeper) {
    this.native = native;
    this.#owner = new WeakRef(owner);
  }

  get listening(): boolean {
    return this.#listening;
  }

  listen(): void {
    if (this.#listening) return;
    const owner = this.#owner.deref();
    if (owner === undefined) return;
    this.#listening = true;
    listening.add(owner);
    if (this.#socket === null && this.#waitId === 0) this.#open(owner);
    if (this.#socket !== null) this.#socket.ref();
    else this.#arm();
    if (this.#timer === null) {
      // Weak, like the socket's callback: an owner dropped unclosed is collected, doorbell and
      // all, without waiting for this timer to notice.
      const self = new WeakRef(this);
      const timer = setInterval(() => {
        const bell = self.deref();
        // biome-ignore lint/complexity/useOptionalChain: TypeScript refuses `?.` before a private name
        if (bell !== undefined && bell.#listening) {
          bell.#owner.deref()?.tick();
        } else {
          clearInterval(timer);
          if (bell !== undefined) bell.#timer = null;
        }
      }, TICK_MS);
      timer.unref();
      this.#timer = timer;
    }
  }

  /**
   * Stops keeping the process alive and waking the owner. The socket goes on reading (a ring
   * that comes now costs the owner one look), and the tick stops at its next turn: a receiver
   * that drains a stream sleeps and wakes all the time, and starting and stopping both each
   * time would cost system calls and timers per wake-up.
   */
  stop(): void {
    if (!this.#listening) return;
    this.#listening = false;
    const owner = this.#owner.deref();
    if (owner !== undefined) listening.delete(owner);
    if (this.#socket !== null) {
      this.#socket.unref();
    } else if (this.#waitId !== 0) {
      const id = this.#waitId;
      this.#waitId = 0;
      this.native.cancel(id, undefined);
    }
  }

  #stopTicking(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Blocks the thread until rung (true), the timeout (false) or its worker stopping (undefined). */
  waitSync(timeout: number): boolean | undefined {
    return this.native.waitSync(timeout, !isMainThread);
  }

  close(): void {
    this.stop();
    this.#stopTicking();
    if (this.#socket !== null) {
      orphans.unregister(this);
      this.#socket.destroy();
      this.#socket = null;
    }
    this.native.close();
  }

  #open(owner: Sleeper): void {
    const fd = this.native.pollable();
    if (fd < 0) return;
    const ref = this.#owner;
    // Rings are single bytes; reading them is all there is to do (they say "look", nothing more).
    // `onread` (documented for socket.connect()) is honoured by the constructor too: one
    // reused buffer, and the callback called straight from the read, with no stream machinery.
    const options: SocketConstructorOpts & { onread: OnReadOpts } = {
      fd,
      readable: true,
      writable: false,
      onread: {
        buffer: Buffer.allocUnsafe(64),
        callback: () => {
          ref.deref()?.rung();
          return true;
        },
      },
    };
    const socket = new Socket(options);
    // A doorbell that fails (it never should) must not take the process down: the sleeper looks
    // again once a second anyway.
    socket.on('error', () => {});
    socket.unref();
    this.#socket = socket;
    orphans.register(owner, socket, this);
  }

  /** Windows: a thread of ours waits for the ring; re-armed after each while listening. */
  #arm(): void {
    const id = nextId();
    this.#waitId = id;
    this.native.wait(-1, id).then(
      () => {
        if (this.#waitId !== id) return;
        this.#waitId = 0;
        if (this.#listening) this.#arm();
        this.#owner.deref()?.rung();
      },
      () => {
        if (this.#waitId === id) this.#waitId = 0;
      },
    );
  }
}
