import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect } from 'vitest';
import { IpcError } from '../src/index.js';

export { runChild, runNode } from '@luaipc/native/testing';

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

/** A child that exited cleanly (no signal, code 0, nothing on stderr): its stdout as JSON. */
export function parseOk(r: {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}): // biome-ignore lint/suspicious/noExplicitAny: fixtures print what each test reads
any {
  expect({ signal: r.signal, code: r.code, stderr: r.stderr }).toEqual({
    signal: null,
    code: 0,
    stderr: '',
  });
  return JSON.parse(r.stdout);
}

/** The IpcError `fn` throws (fails the test when it throws anything else, or nothing). */
export function ipcError(fn: () => unknown): IpcError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(IpcError);
    expect((e as Error).name).toBe('IpcError');
    return e as IpcError;
  }
  throw new Error('expected an IpcError');
}

/** Expects `fn` to throw the one use-after-close error. */
export function expectClosed(fn: () => unknown): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(Error);
  expect(caught).not.toBeInstanceOf(TypeError);
  expect((caught as Error).message).toBe('attempt to use a closed file');
  expect((caught as { code?: string }).code).toBe('ERR_IPC_CLOSED');
}
