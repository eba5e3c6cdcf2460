/**
 * The loader of the `@luaipc` native addons: the prebuild for this platform or a local build,
 * else `ERR_IPC_NO_BINARY`. For authors of `@luaipc` packages.
 *
 * @packageDocumentation
 */
export interface LoadAddonOptions {
  /** The addon's file name without `.node` (`'sem'` loads `build/Release/sem.node`). */
  name: string;
  /** `import.meta.url` (or `__filename`) of a module in the package's `src/` or `dist/`. */
  from: string;
  /** For the "not found" message; defaults to `@luaipc/<name>`. */
  packageName?: string;
}

/**
 * Loads the package's addon (once per thread, as `require` does): the prebuilt binary of the
 * installed per-platform package (`<packageName>-<platformTag()>/<name>.node`, an optional
 * dependency of the package), else a local build (`build/Release`, `build/Debug`; with
 * `LUAIPC_ADDON_DIR` set, only that build folder). Makes its OS errors `IpcError`s (see
 * `luaipc/errors.h`; on Windows with the Win32 code as `winerror`) and, when the addon exports
 * `atProcessExit()`, calls it on `process.exit()`. Throws an Error with code
 * `ERR_IPC_NO_BINARY` naming the platform, every place tried and the command that builds the
 * addon from source when there is none.
 */
export declare function loadAddon<T = unknown>(options: LoadAddonOptions): T;

/**
 * This machine's platform tag, which names the per-platform package holding its prebuilt binary
 * (`@luaipc/sem-linux-x64-glibc`): `linux-x64-glibc`, `linux-arm64-musl`, `win32-x64`.
 */
export declare function platformTag(): string;
