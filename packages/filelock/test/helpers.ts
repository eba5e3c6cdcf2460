import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Child, type ChildResult, runNode, startChild, tempDir } from '@luaipc/testing';

export { type Child, cleanup, startChild, uniqueName } from '@luaipc/testing';

export type RunResult = ChildResult;

export const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** A fresh file (`size` bytes of 'x') in a directory of its own, removed by `cleanup()`. */
export function tempFile(size = 64, name = 'lock'): string {
  const path = join(tempDir('filelock'), name);
  writeFileSync(path, 'x'.repeat(size));
  return path;
}

/** Runs `node [nodeArgs] fixtures/<script> ...args` and collects its output. */
export function runFixture(
  script: string,
  args: string[] = [],
  nodeArgs: string[] = [],
  timeoutMs = 30_000,
): Promise<RunResult> {
  return runNode(join(fixtures, script), args, { nodeArgs, timeoutMs });
}

/**
 * Another process holding locks on `path`, driven line by line: `await peer.send('lock w 0 0')`
 * resolves with its reply line. fixtures/locker.mjs for Node; it is ready when this resolves.
 */
export async function nodePeer(path: string): Promise<Child> {
  const peer = startChild(process.execPath, [join(fixtures, 'locker.mjs'), path], peerOptions);
  await expectReady(peer);
  return peer;
}

/** {@link nodePeer} with Python's fcntl.lockf (fixtures/py_lock.py). */
export async function pythonPeer(path: string): Promise<Child> {
  const peer = startChild('python3', [join(fixtures, 'py_lock.py'), path], peerOptions);
  await expectReady(peer);
  return peer;
}

// A peer lives as long as the longest test may run (vitest.shared.ts's testTimeout).
const peerOptions = { timeoutMs: 120_000 };

async function expectReady(peer: Child): Promise<void> {
  const line = await peer.next();
  if (line !== 'ready') throw new Error(`peer said ${line}, expected ready; ${peer.stderr}`);
}
