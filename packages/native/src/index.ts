/**
 * The runtime part the `@luaipc` addons share, in one module: `./load`, `./args` and `./abort`
 * together. For authors of `@luaipc` packages. The glue compiled into each addon, and its CMake
 * function, are `@luaipc/build`'s.
 *
 * @packageDocumentation
 */
export * from './abort.js';
export * from './args.js';
export * from './load.js';
