import { fileURLToPath } from 'node:url';
import { objectExists, objectPath } from '@luaipc/testing';
import { thrownBy } from '../../../vitest.expect.js';
import { IpcError } from '../src/index.js';

export { cleanup, runChild, runNode, startChild, uniqueName } from '@luaipc/testing';
export { expectClosed, parseOk } from '../../../vitest.expect.js';

/** The IpcError `fn` throws (fails the test when it throws anything else, or nothing). */
export const ipcError = (fn: () => unknown): IpcError => thrownBy(fn, IpcError);

export const exists = (name: string): boolean => objectExists('shm', name);

/** The file Linux keeps for segment `name`. */
export function shmPath(name: string): string {
  const path = objectPath('shm', name);
  if (path === undefined) throw new Error('no shm path on this platform');
  return path;
}

export const fixture = (file: string): string =>
  fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));
