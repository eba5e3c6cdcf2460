/** How long Promise-form calls that settle at once may keep the event loop from turning. */
const TURN_MS = 4;

/**
 * A `for await` over a ring that never empties (or a loop of `await send()` into one that never
 * fills) settles every Promise at once, and microtasks alone never let the event loop turn:
 * timers and I/O would wait until the stream ends. Each such call asks allow(); once this turn
 * has lasted TURN_MS, it says no until the event loop has turned, and the caller settles
 * through setImmediate instead.
 */
export class TurnBudget {
  #started = 0;
  #calls = 0;
  #open = false;
  #spent = false;
  readonly #reset = (): void => {
    this.#open = false;
    this.#spent = false;
  };

  allow(): boolean {
    if (!this.#open) {
      this.#open = true;
      this.#calls = 0;
      this.#started = performance.now();
      setImmediate(this.#reset);
      return true;
    }
    if (this.#spent) return false;
    // The clock is read every 64 calls: cheap, and a call is far shorter than TURN_MS / 64.
    if ((++this.#calls & 63) !== 0) return true;
    this.#spent = performance.now() - this.#started >= TURN_MS;
    return !this.#spent;
  }
}
