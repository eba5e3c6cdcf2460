import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ChildResult, objectExists, objectPath, runNode } from '@luaipc/testing';

export { cleanup, uniqueName } from '@luaipc/testing';
export type RunResult = ChildResult;

export const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

export const semPath = (name: string): string => objectPath('sem', name) as string;
export const semExists = (name: string): boolean => objectExists('sem', name);

/** Runs `node [nodeArgs] fixtures/<script> ...args` and collects its output. */
export function runFixture(
  script: string,
  args: string[] = [],
  nodeArgs: string[] = [],
  timeoutMs = 30_000,
): Promise<RunResult> {
  return runNode(join(fixtures, script), args, { nodeArgs, timeoutMs });
}

export function runSync(cmd: string, args: string[]): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
}
