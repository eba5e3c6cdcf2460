/** How a wrong value is shown in argument error messages (Node's style). */
export declare function describeValue(value: unknown): string;

/** The part of `IpcError` (from `@luaipc/filelike`) that `checkName` needs. */
export interface IpcErrorClass {
  new (code: string, syscall: string, details?: { name?: string; path?: string }): Error;
}

/**
 * Checks a LuaIPC object name (shm, sem): a non-empty string without '/' or NUL (TypeError /
 * RangeError), at most `nameMax` bytes (else `IpcError` ENAMETOOLONG for `syscall`).
 * Returns the name.
 */
export declare function checkName(
  name: unknown,
  syscall: string,
  nameMax: number,
  IpcError: IpcErrorClass,
): string;
