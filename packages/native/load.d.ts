/** Builds the error thrown for an OS failure; `name`/`path` are undefined when none applies. */
export type ErrorFactory = (
  errno: number,
  syscall: string,
  name: string | undefined,
  path: string | undefined,
) => Error;

export interface LoadAddonOptions {
  /** The addon's file name without `.node` (`'sem'` loads `build/Release/sem.node`). */
  name: string;
  /** `import.meta.url` (or `__filename`) of a module in the package's `src/` or `dist/`. */
  from: string;
  /** Passed to the addon's `setErrorFactory` (see `luaipc/errors.h`). */
  errorFactory?: ErrorFactory;
  /** For the "not found" message; defaults to `@luaipc/<name>`. */
  packageName?: string;
}

/**
 * Loads the package's built addon (once per thread, as `require` does) and installs the error
 * factory. Throws an Error listing every path tried and the build command when it is missing.
 */
export declare function loadAddon<T = unknown>(options: LoadAddonOptions): T;
