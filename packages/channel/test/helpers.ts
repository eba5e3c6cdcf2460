import { existsSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { StartedChild } from '@luaipc/native/testing';
import { cleanupNames, uniqueName as sharedUniqueName } from '@luaipc/native/testing';
import { afterEach, expect } from 'vitest';
import { thrownBy } from '../../../vitest.expect.js';
import { IpcError } from '../src/index.js';

export { runChild, runNode, type StartedChild, startChild } from '@luaipc/native/testing';
export { expectClosed, parseOk } from '../../../vitest.expect.js';

/** The IpcError `fn` throws (fails the test when it throws anything else, or nothing). */
export const ipcError = (fn: () => unknown): IpcError => thrownBy(fn, IpcError);

const names = new Set<string>();

/** A channel name unique to this test process; everything made under it goes after each test. */
export function uniqueName(tag = 'ch'): string {
  const name = sharedUniqueName(tag);
  names.add(name);
  return name;
}

/** The files channel `name` consists of (segment, lock file, doorbells), in both directories. */
export function channelFiles(name: string): string[] {
  const found: string[] = [];
  for (const dir of ['/dev/shm', '/tmp']) {
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir)) {
      if (entry === name || entry.startsWith(`${name}.`)) found.push(`${dir}/${entry}`);
    }
  }
  return found;
}

// The segment, its lock file and doorbells go after each test, whether it passed or not.
afterEach(() => {
  for (const name of names) for (const file of channelFiles(name)) rmSync(file, { force: true });
  names.clear();
  cleanupNames();
});

export const fixture = (file: string): string =>
  fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits for each child to exit, and expects it to have exited cleanly (0, no signal, no stderr). */
export async function expectExitedCleanly(children: StartedChild[]): Promise<string[]> {
  const outputs: string[] = [];
  for (const child of children) {
    const r = await child.done;
    expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({
      code: 0,
      signal: null,
      stderr: '',
    });
    outputs.push(r.stdout);
  }
  return outputs;
}
