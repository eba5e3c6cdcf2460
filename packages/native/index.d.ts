/**
 * The runtime part the `@luaipc` addons share, in one module: `./load`, `./args` and `./abort`
 * together. For authors of `@luaipc` packages.
 *
 * @packageDocumentation
 */
export * from './abort.js';
export * from './args.js';
export * from './load.js';
