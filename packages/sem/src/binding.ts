import { IpcError } from '@luaipc/filelike';
import { loadAddon } from '@luaipc/native/load';

/** The addon's surface; every argument is already checked by index.ts. */
export interface NativeSemaphore {
  inc(): void;
  tryDec(): boolean;
  /** timeout < 0: forever. */
  decSync(timeout: number): boolean;
  /** A boolean when settled at once on the JS thread, else a promise. */
  dec(timeout: number, id: number): boolean | Promise<boolean>;
  cancel(id: number, reason: unknown): boolean;
  close(): void;
  readonly closed: boolean;
}

export interface Addon {
  Semaphore: new (osName: string, name: string, n: number) => NativeSemaphore;
  unlink(osName: string, name: string): void;
  readonly SEM_VALUE_MAX: number;
  readonly NAME_MAX: number;
}

let addon: Addon | undefined;

/** Loads the addon on first use, so importing the package never fails for type-only users. */
export function native(): Addon {
  if (addon !== undefined) return addon;
  const loaded = loadAddon<Addon>({
    name: 'sem',
    from: import.meta.url,
    packageName: '@luaipc/sem',
    IpcError,
  });
  addon = loaded;
  return addon;
}
