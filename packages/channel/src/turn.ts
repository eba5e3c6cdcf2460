/** How long Promise-form calls that settle at once may keep the event loop from turning. */
const TURN_MS = 4;

/**
 * A `for await` over a ring that never empties (or a loop of `await send()` into one that never
 * fills) settles every Promise at once, and microtasks alone never let the event loop turn:
 * timers and I/O would wait until the stream ends. Each such call asks allow(). Every 8th call
 * reads the clock: a burst of calls that has lasted TURN_MS is told no until a setImmediate has
 * run (the event loop turned), and the caller settles through setImmediate instead. A gap of
 * TURN_MS between two readings means the loop was free meanwhile: a new burst. Calls that come
 * one per turn (a ping-pong) cost a counter, and schedule nothing.
 */
export class TurnBudget {
  #calls = 0;
  #burst = 0;
  #read = 0;
  #spent = false;
  readonly #reset = (): void => {
    this.#spent = false;
    this.#burst = this.#read = performance.now();
  };

  allow(): boolean {
    if (this.#spent) return false;
    if ((++this.#calls & 7) !== 0) return true;
    const now = performance.now();
    if (now - this.#read >= TURN_MS) this.#burst = now;
    this.#read = now;
    if (now - this.#burst < TURN_MS) return true;
    this.#spent = true;
    setImmediate(this.#reset);
    return false;
  }
}
