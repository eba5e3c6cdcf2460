import { onAbort } from '@luaipc/native/abort';
import { after } from './timer.js';

/** A Promise-form call waiting in line: how it settles, and its timer and abort listener. */
export interface Pending<V> {
  resolve(value: V): void;
  reject(reason: unknown): void;
  cancelTimer: (() => void) | undefined;
  forget: (() => void) | undefined;
}

/**
 * The Promise-form calls of one handle waiting in line (receives of a receiver, sends of a
 * sender), in call order. `expire` settles one whose timeout came, `abort` one whose signal
 * fired; both have already taken it out of the line.
 */
export class PendingLine<P extends Pending<never>> {
  readonly items: P[] = [];

  /** Adds `p` at the end, with its timeout (seconds; none unless > 0) and abort signal. */
  add(
    p: P,
    timeout: number,
    signal: AbortSignal | undefined,
    expire: (p: P) => void,
    abort: (p: P, reason: unknown) => void,
  ): void {
    this.items.push(p);
    if (timeout > 0) p.cancelTimer = after(timeout, () => this.remove(p) >= 0 && expire(p));
    if (signal !== undefined) {
      p.forget = onAbort(signal, () => this.remove(p) >= 0 && abort(p, signal.reason));
    }
  }

  /** The first in line, taken out (its timer and listener dropped). */
  shift(): P {
    const p = this.items.shift() as P;
    release(p);
    return p;
  }

  /** Every one in line, taken out (timers and listeners dropped). */
  takeAll(): P[] {
    const all = this.items.splice(0);
    for (const p of all) release(p);
    return all;
  }

  /** Every one in line, taken out and rejected with `error`. */
  rejectAll(error: unknown): void {
    for (const p of this.takeAll()) p.reject(error);
  }

  /** Takes `p` out of the line (dropping its timer and listener); its index, or -1. */
  remove(p: P): number {
    const i = this.items.indexOf(p);
    if (i >= 0) {
      this.items.splice(i, 1);
      release(p);
    }
    return i;
  }
}

function release(p: Pending<never>): void {
  p.cancelTimer?.();
  p.forget?.();
}
