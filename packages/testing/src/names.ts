// Names of OS objects (shm segments, semaphores, channels) that no other test, worker or
// concurrent run uses, and the OS-neutral check that one exists.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { onCleanup } from './cleanup.js';

let counter = 0;
// Names made since the last cleanup(), removed together (one directory scan for all of them).
const made = new Set<string>();

/**
 * A name no other test, worker or concurrent run uses (`lx-<tag>-<pid>-<n>`, 30 bytes at most so
 * it is portable to macOS). At the next `cleanup()` the segment `<name>`, the semaphore
 * `sem.<name>` and the `<name>-...` objects fixtures derive from it are removed.
 */
export function uniqueName(tag = 't'): string {
  counter += 1;
  const name = `lx-${tag.slice(0, 8)}-${process.pid.toString(36)}-${counter.toString(36)}`;
  if (made.size === 0) onCleanup(removeObjects);
  made.add(name);
  return name;
}

function removeObjects(): void {
  const names = [...made];
  made.clear();
  if (process.platform !== 'linux') return;
  const ours = (entry: string) => {
    const bare = entry.startsWith('sem.') ? entry.slice(4) : entry;
    return names.some((n) => bare === n || bare.startsWith(`${n}-`));
  };
  for (const entry of readdirSync('/dev/shm')) {
    if (ours(entry)) rmSync(`/dev/shm/${entry}`, { force: true });
  }
}

/** Where the OS keeps a shm segment / semaphore of this name, when it is a file (Linux). */
export function objectPath(kind: 'shm' | 'sem', name: string): string | undefined {
  if (process.platform !== 'linux') return undefined;
  return kind === 'sem' ? `/dev/shm/sem.${name}` : `/dev/shm/${name}`;
}

/** Whether the shm segment or semaphore `name` exists. */
export function objectExists(kind: 'shm' | 'sem', name: string): boolean {
  const path = objectPath(kind, name);
  if (path === undefined) throw new Error(`objectExists: no check for ${process.platform} yet`);
  return existsSync(path);
}
