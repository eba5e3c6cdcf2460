import { existsSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Child, onCleanup, uniqueName as sharedUniqueName } from '@luaipc/testing';
import { expect } from 'vitest';
import { thrownBy } from '../../../vitest.expect.js';
import { IpcError } from '../src/index.js';

export { type Child, cleanup, runChild, runNode, startChild } from '@luaipc/testing';
export { expectClosed, parseOk } from '../../../vitest.expect.js';

/** The IpcError `fn` throws (fails the test when it throws anything else, or nothing). */
export const ipcError = (fn: () => unknown): IpcError => thrownBy(fn, IpcError);

/**
 * A channel name unique to this test process; its segment, lock file and doorbells go at the next
 * `cleanup()`, whether the test passed or not.
 */
export function uniqueName(tag = 'ch'): string {
  const name = sharedUniqueName(tag);
  onCleanup(() => {
    for (const file of channelFiles(name)) rmSync(file, { force: true });
  });
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

export const fixture = (file: string): string =>
  fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits for each child to exit, and expects it to have exited cleanly (0, no signal, no stderr). */
export async function expectExitedCleanly(children: Child[]): Promise<string[]> {
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
