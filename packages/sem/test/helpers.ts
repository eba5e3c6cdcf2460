import { type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

let counter = 0;
const created = new Set<string>();

/** A name no other test (or concurrent test run) uses; remembered for {@link cleanup}. */
export function uniqueName(tag = 't'): string {
  counter += 1;
  const name = `luaipc-sem-${tag}-${process.pid}-${counter}`;
  created.add(name);
  return name;
}

/** Where glibc keeps a named semaphore. */
export function semPath(name: string): string {
  return `/dev/shm/sem.${name}`;
}

export function semExists(name: string): boolean {
  return existsSync(semPath(name));
}

/** Removes every semaphore the test created, whatever state the test left it in. */
export function cleanup(): void {
  for (const name of created) rmSync(semPath(name), { force: true });
  created.clear();
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node [nodeArgs] fixtures/<script> ...args` and collects its output. */
export function runFixture(
  script: string,
  args: string[] = [],
  nodeArgs: string[] = [],
  timeoutMs = 30_000,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, join(fixtures, script), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export function runSync(cmd: string, args: string[]): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
}
