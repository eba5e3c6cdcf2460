import { fileURLToPath } from 'node:url';

/** The bench package root (this file is src/harness/paths.ts or dist/harness/paths.js). */
export const benchRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The compiled child-process entry point every case and peer runs in. */
export const runnerPath = fileURLToPath(new URL('../../dist/runner.js', import.meta.url));

/** Marks the line of a case's stdout that carries its metrics as JSON. */
export const RESULT_PREFIX = '@@bench-result ';
