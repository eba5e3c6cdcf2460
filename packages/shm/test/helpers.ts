import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

let counter = 0;
const made: string[] = [];

/**
 * A name no other test (or concurrent run) uses. After each test, whether it passed or not,
 * everything in /dev/shm made under it is removed: the segment `<name>`, the semaphore
 * `sem.<name>`, and the `<name>-...` / `sem.<name>-...` objects fixtures derive from it.
 */
export function uniqueName(tag = 't'): string {
  const name = `luaipc-shm-${tag}-${process.pid}-${++counter}`;
  made.push(name);
  return name;
}

export function shmPath(name: string): string {
  return `/dev/shm/${name}`;
}

export function exists(name: string): boolean {
  return existsSync(shmPath(name));
}

afterEach(() => {
  const names = made.splice(0);
  if (names.length === 0) return;
  const ours = (entry: string) =>
    names.some(
      (n) =>
        entry === n ||
        entry.startsWith(`${n}-`) ||
        entry === `sem.${n}` ||
        entry.startsWith(`sem.${n}-`),
    );
  for (const entry of readdirSync('/dev/shm')) {
    if (ours(entry)) rmSync(`/dev/shm/${entry}`, { force: true });
  }
});

export const fixture = (file: string): string =>
  fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Child {
  /** Resolves when the process exits. */
  done: Promise<RunResult>;
  /** Resolves with the first stdout line containing `marker`. */
  line(marker: string): Promise<string>;
  write(text: string): void;
  kill(): void;
}

/** Starts `command` as a real child process; it is killed if still running after `timeoutMs`. */
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

/** Runs a fixture script under node and waits for it. */
export function runNode(file: string, args: string[] = [], nodeFlags: string[] = []) {
  return start(process.execPath, [...nodeFlags, fixture(file), ...args]).done;
}
