import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onCleanup, tempDir } from '@luaipc/testing';
import { thrownBy } from '../../../vitest.expect.js';
import { IpcError } from '../src/index.js';

export { cleanup, runChild, runNode, startChild, tempDir, uniqueName } from '@luaipc/testing';
export { expectClosed, parseOk } from '../../../vitest.expect.js';

/** The IpcError `fn` throws (fails the test when it throws anything else, or nothing). */
export const ipcError = (fn: () => unknown): IpcError => thrownBy(fn, IpcError);

// One scratch directory per test, made on first use and removed by the next cleanup().
let dir: string | undefined;
let counter = 0;

/** A fresh path in this test's scratch directory (nothing is created). */
export function tempPath(tag = 'f'): string {
  if (dir === undefined) {
    dir = tempDir('mmap');
    onCleanup(() => {
      dir = undefined;
    });
  }
  counter += 1;
  return join(dir, `${tag}-${counter}`);
}

/** A new file with `content` in the scratch directory; returns its path. */
export function tempFile(content: string | Uint8Array, tag = 'f'): string {
  const path = tempPath(tag);
  writeFileSync(path, content);
  return path;
}

export const fixture = (file: string): string =>
  fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));
