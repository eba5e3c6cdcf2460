/**
 * One `AbortSignal` listener shared by every pending wait on the signal. For authors of `@luaipc`
 * packages.
 *
 * @packageDocumentation
 */
/**
 * Calls `fn` once when `signal` aborts, with one listener on the signal however many waits
 * share it. Returns a function that forgets `fn` (call it when the wait settles).
 */
export declare function onAbort(signal: AbortSignal, fn: () => void): () => void;
