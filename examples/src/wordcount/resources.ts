/**
 * Everything a run creates, with how to undo it, released in reverse order on success, on
 * error and on Ctrl-C alike.
 */
export type Kind =
  | 'shm segment'
  | 'channel'
  | 'semaphore'
  | 'worker process'
  | 'file'
  | 'directory';

interface Entry {
  kind: Kind | undefined;
  what: string;
  undo: () => void | Promise<void>;
}

export class Resources {
  #entries: Entry[] = [];
  readonly #released: Map<Kind, number>;

  constructor(released = new Map<Kind, number>()) {
    this.#released = released;
  }

  /** Remembers `undo` for `what`; returns a function that runs it now (once) and forgets it. */
  add(kind: Kind | undefined, what: string, undo: () => void | Promise<void>): () => Promise<void> {
    const entry: Entry = { kind, what, undo };
    this.#entries.push(entry);
    return async () => {
      const i = this.#entries.indexOf(entry);
      if (i < 0) return;
      this.#entries.splice(i, 1);
      await this.#run(entry);
    };
  }

  /**
   * A nested set, released as one entry of this one (or on its own, earlier, by the function
   * returned); what it releases counts in this set's summary.
   */
  scope(what: string): [Resources, () => Promise<void>] {
    const nested = new Resources(this.#released);
    return [nested, this.add(undefined, what, () => nested.release())];
  }

  /** Forgets `what` without undoing it (something to keep, such as a finished cache file). */
  keep(what: string): void {
    this.#entries = this.#entries.filter((e) => e.what !== what);
  }

  async #run(entry: Entry): Promise<void> {
    await entry.undo();
    if (entry.kind !== undefined) {
      this.#released.set(entry.kind, (this.#released.get(entry.kind) ?? 0) + 1);
    }
  }

  /** Undoes everything still held, newest first; throws the first failure after trying all. */
  async release(): Promise<void> {
    let failure: unknown;
    while (this.#entries.length > 0) {
      const entry = this.#entries.pop() as Entry;
      try {
        await this.#run(entry);
      } catch (error) {
        failure ??= new Error(`could not remove ${entry.kind} ${entry.what}: ${String(error)}`);
      }
    }
    if (failure !== undefined) throw failure;
  }

  /** What was released so far: "2 shm segments, 1 semaphore, ...". */
  summary(): string {
    const parts = [...this.#released].map(
      ([kind, n]) => `${n} ${kind}${n === 1 ? '' : kind.endsWith('s') ? 'es' : 's'}`,
    );
    return parts.length ? parts.join(', ') : 'nothing';
  }
}

/** Ctrl-C (SIGINT) or SIGTERM, to this process or to its workers. */
export class Interrupted extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
  }
}
