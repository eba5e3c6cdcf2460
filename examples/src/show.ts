import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';

/** A file in examples/data/ (this module is src/show.ts or dist/show.js). */
export function dataFile(name: string): string {
  return fileURLToPath(new URL(`../data/${name}`, import.meta.url));
}

export function heading(text: string): void {
  console.log(`\n-- ${text}`);
}

export function note(text: string): void {
  console.log(`   ${text}`);
}

/** Prints a call and what it returned: `f.read('n')  →  21.5`. */
export function show(code: string, value: unknown): void {
  const shown = inspect(value, { breakLength: Number.POSITIVE_INFINITY, colors: false });
  console.log(`   ${code.padEnd(26)} → ${shown}`);
}

/** True when `moduleUrl` is the script node was started with (run an example on its own). */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(moduleUrl) === process.argv[1];
}
