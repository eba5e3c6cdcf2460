import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cleanupNames, objectExists, objectPath } from '@luaipc/native/testing';
import { afterEach } from 'vitest';
import { thrownBy } from '../../../vitest.expect.js';
import { IpcError } from '../src/index.js';

export { runChild, runNode, uniqueName } from '@luaipc/native/testing';
export { expectClosed, parseOk } from '../../../vitest.expect.js';

/** The IpcError `fn` throws (fails the test when it throws anything else, or nothing). */
export const ipcError = (fn: () => unknown): IpcError => thrownBy(fn, IpcError);

// Everything made under a uniqueName() goes after each test, whether it passed or not.
afterEach(() => cleanupNames());

export const exists = (name: string): boolean => objectExists('shm', name);

/** The file Linux keeps for segment `name`. */
export function shmPath(name: string): string {
  const path = objectPath('shm', name);
  if (path === undefined) throw new Error('no shm path on this platform');
  return path;
}

export const fixture = (file: string): string =>
  fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A child process the test talks to while it runs (see {@link start}). */
export interface Child {
  /** Resolves when the process exits. */
  done: Promise<RunResult>;
  /** Resolves with the first stdout line containing `marker`. */
  line(marker: string): Promise<string>;
  write(text: string): void;
  kill(): void;
}

/**
 * Starts `command` as a real child process that the test can wait on line by line (the shared
 * runChild only reports the end); it is killed if still running after `timeoutMs`.
 */
export function start(command: string, args: string[], timeoutMs = 60_000): Child {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { marker: string; resolve: (line: string) => void }[] = [];
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
    const lines = stdout.split('\n');
    for (const w of waiters.slice()) {
      const hit = lines.find((l) => l.includes(w.marker));
      if (hit !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(hit);
      }
    }
  });
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdin.on('error', () => {});
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<RunResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    done,
    line(marker) {
      const hit = stdout.split('\n').find((l) => l.includes(marker));
      if (hit !== undefined) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        waiters.push({ marker, resolve });
        done.then(
          (r) =>
            reject(
              new Error(`exited (${r.code ?? r.signal}) before printing '${marker}':\n${r.stderr}`),
            ),
          reject,
        );
      });
    },
    write(text) {
      child.stdin.write(text);
    },
    kill() {
      child.kill('SIGKILL');
    },
  };
}
