// The one way a test suite cleans up: whatever a helper makes (a named object, a scratch
// directory, a running child process) it registers here as it makes it, and every test file
// calls `afterEach(cleanup)`, so a failing test leaves nothing behind either. Nothing is
// registered with the test runner on import.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Undo = () => void | Promise<void>;

const undos: Undo[] = [];

/** Registers `undo` to run at the next {@link cleanup} (the latest registered runs first). */
export function onCleanup(undo: Undo): void {
  undos.push(undo);
}

/**
 * Undoes everything registered since the last call, newest first; one failing step does not
 * stop the others (the first error is thrown at the end). Call it from `afterEach`.
 */
export async function cleanup(): Promise<void> {
  let failure: unknown;
  let failed = false;
  for (let undo = undos.pop(); undo !== undefined; undo = undos.pop()) {
    try {
      await undo();
    } catch (error) {
      if (!failed) failure = error;
      failed = true;
    }
  }
  if (failed) throw failure;
}

/** A new empty directory under the OS's temporary directory, removed by {@link cleanup}. */
export function tempDir(tag = 'test'): string {
  const dir = mkdtempSync(join(tmpdir(), `luaipc-${tag}-`));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
