import { loadAddon } from '@luaipc/native/load';

/** The addon's surface; every argument is already checked by index.ts. */
export interface NativeSemaphore {
  inc(): void;
  tryDec(): boolean;
  /** timeout < 0: forever. `undefined` when the thread's env is being torn down meanwhile. */
  /** `inWorker`: only a worker's wait sleeps in slices, to see it being stopped. */
  decSync(timeout: number, inWorker: boolean): boolean | undefined;
  /** A boolean when settled at once on the JS thread, else a promise. */
  dec(timeout: number, id: number): boolean | Promise<boolean>;
  cancel(id: number, reason: unknown): boolean;
  close(): void;
  readonly closed: boolean;
}

export interface Addon {
  Semaphore: new (name: string, n: number) => NativeSemaphore;
  unlink(name: string): void;
  readonly SEM_VALUE_MAX: number;
  readonly NAME_MAX: number;
}

export const addon: Addon = loadAddon<Addon>({ name: 'sem', from: import.meta.url });
