/** `IpcError` from `@luaipc/filelike` (passed in: this package depends on nothing). */
export interface IpcErrorFactory {
  fromErrno(errno: number, syscall: string, details: { name?: string; path?: string }): Error;
}

export interface LoadAddonOptions {
  /** The addon's file name without `.node` (`'sem'` loads `build/Release/sem.node`). */
  name: string;
  /** `import.meta.url` (or `__filename`) of a module in the package's `src/` or `dist/`. */
  from: string;
  /** Builds the addon's OS errors (installed with its `setErrorFactory`, see `luaipc/errors.h`). */
  IpcError?: IpcErrorFactory;
  /** For the "not found" message; defaults to `@luaipc/<name>`. */
  packageName?: string;
}

/**
 * Loads the package's built addon (once per thread, as `require` does), installs the error
 * factory, and, when the addon exports `atProcessExit()` (see `luaipc/env.h`), calls it on `process.exit()`. Throws an Error listing every path tried and the build command when it is missing.
 */
export declare function loadAddon<T = unknown>(options: LoadAddonOptions): T;
