/** How long Promise-form calls that settle at once may keep the event loop from turning. */
const TURN_MS = 4;

/**
 * A `for await` over a ring that never empties (or a loop of `await send()` into one that never
 * fills) settles every Promise at once, and microtasks alone never let the event loop turn:
 * timers and I/O would wait until the stream ends. Each such call asks allow(). Every 8th call
 * reads the clock; the first reading of a burst starts it and schedules a setImmediate, which
 * runs only once the event loop has turned and ends the burst. A burst that has lasted TURN_MS
 * is told no until then, and the caller settles through setImmediate instead. Only the loop's
 * turning ends a burst: however long the calls themselves take (large messages on a loaded
 * machine), the clock cannot mistake them for the loop being free. Calls that come one per turn
 * (a ping-pong) cost a counter, and a setImmediate every 8th call.
 */
export class TurnBudget {
  #calls = 0;
  #burst = 0;
  #armed = false;
  #spent = false;
  readonly #reset = (): void => {
    this.#armed = false;
    this.#spent = false;
  };

  allow(): boolean {
    if (this.#spent) return false;
    if ((++this.#calls & 7) !== 0) return true;
    const now = performance.now();
    if (!this.#armed) {
      this.#armed = true;
      this.#burst = now;
      setImmediate(this.#reset);
      return true;
    }
    if (now - this.#burst < TURN_MS) return true;
    this.#spent = true;
    return false;
  }
}
