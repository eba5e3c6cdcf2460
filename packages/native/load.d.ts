export interface LoadAddonOptions {
  /** The addon's file name without `.node` (`'sem'` loads `build/Release/sem.node`). */
  name: string;
  /** `import.meta.url` (or `__filename`) of a module in the package's `src/` or `dist/`. */
  from: string;
  /** For the "not found" message; defaults to `@luaipc/<name>`. */
  packageName?: string;
}

/**
 * Loads the package's built addon (once per thread, as `require` does), makes its OS errors
 * `IpcError`s (see `luaipc/errors.h`), and, when the addon exports `atProcessExit()` (see
 * `luaipc/env.h`), calls it on `process.exit()`. Throws an Error listing every path tried and
 * the build command when it is missing.
 */
export declare function loadAddon<T = unknown>(options: LoadAddonOptions): T;
