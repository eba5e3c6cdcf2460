import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { thrownBy } from '../../../vitest.expect.js';
import { IpcError } from '../src/index.js';

export { runChild, runNode } from '@luaipc/native/testing';
export { expectClosed, parseOk } from '../../../vitest.expect.js';

/** The IpcError `fn` throws (fails the test when it throws anything else, or nothing). */
export const ipcError = (fn: () => unknown): IpcError => thrownBy(fn, IpcError);

// One scratch directory per test file, removed at its end whatever happened.
const dir = mkdtempSync(join(tmpdir(), 'luaipc-mmap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

/** A fresh path in this test file's scratch directory (nothing is created). */
export function tempPath(tag = 'f'): string {
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
