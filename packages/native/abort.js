// One 'abort' listener per AbortSignal, whatever the number of waits sharing it: EventTarget
// warns (MaxListenersExceededWarning) past ten listeners, and a signal is often shared by many
// waits (one per request, per job, ...).
const waiters = new WeakMap();

function dispatch(signal) {
  const set = waiters.get(signal);
  if (set === undefined) return;
  waiters.delete(signal);
  for (const fn of set) fn();
}

/**
 * Calls `fn` once when `signal` aborts. Returns a function that forgets `fn` (call it when the
 * wait settles). `signal` must not be aborted already (check `signal.aborted` first).
 */
function onAbort(signal, fn) {
  let set = waiters.get(signal);
  if (set === undefined) {
    set = new Set();
    waiters.set(signal, set);
    signal.addEventListener('abort', () => dispatch(signal), { once: true });
  }
  set.add(fn);
  return () => {
    set.delete(fn);
  };
}

exports.onAbort = onAbort;
