/**
 * One `AbortSignal` listener shared by every pending wait on the signal. For authors of `@luaipc`
 * packages.
 *
 * @packageDocumentation
 */

// One 'abort' listener per AbortSignal, whatever the number of waits sharing it: EventTarget
// warns (MaxListenersExceededWarning) past ten listeners, and a signal is often shared by many
// waits (one per request, per job, ...).
const waiters = new WeakMap<AbortSignal, Set<() => void>>();

function dispatch(signal: AbortSignal): void {
  const set = waiters.get(signal);
  if (set === undefined) return;
  waiters.delete(signal);
  for (const fn of set) fn();
}

/**
 * Calls `fn` once when `signal` aborts, with one listener on the signal however many waits
 * share it. Returns a function that forgets `fn` (call it when the wait settles). `signal` must
 * not be aborted already (check `signal.aborted` first).
 */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  let set = waiters.get(signal);
  if (set === undefined) {
    set = new Set();
    waiters.set(signal, set);
    signal.addEventListener('abort', () => dispatch(signal), { once: true });
  }
  const listeners = set;
  listeners.add(fn);
  return () => {
    listeners.delete(fn);
  };
}
