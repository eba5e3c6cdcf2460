// Real child processes for tests: run one to its end (runChild, runNode), or start one and drive
// it line by line while it runs (startChild), the one way the suites talk to a peer process.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { onCleanup } from './cleanup.js';

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The child was killed because it ran past `timeoutMs`. */
  timedOut: boolean;
}

export interface ChildOptions {
  /** SIGKILL after this long (default 60 s). */
  timeoutMs?: number;
  /** Written to its stdin, which is then closed (runChild only). */
  input?: string;
  /** Merged into this process's environment. */
  env?: Record<string, string>;
  cwd?: string;
}

/** A child process a test follows while it runs (see {@link startChild}). */
export interface Child {
  readonly pid: number | undefined;
  /** Resolves when the process has exited and its output is closed. */
  readonly done: Promise<ChildResult>;
  /** What it wrote to stderr so far. */
  readonly stderr: string;
  /**
   * Its next stdout line not yet returned by `next` (without the line break); rejects when none
   * comes within `ms`, or when the process ends first.
   */
  next(ms?: number): Promise<string>;
  /**
   * The first stdout line containing `marker`, whether or not `next` returned it already;
   * rejects when the process ends without printing one.
   */
  line(marker: string): Promise<string>;
  /** Writes `text` to its stdin. */
  write(text: string): void;
  /** Writes `command` and a line break to its stdin, and resolves with its next line. */
  send(command: string, ms?: number): Promise<string>;
  /** Ends its stdin. */
  end(): void;
  /** Signals it (SIGKILL by default). */
  kill(signal?: NodeJS.Signals): void;
}

interface Waiter {
  /** A `next` waiter: takes the next unread line, which no other `next` waiter then gets. */
  consumes: boolean;
  /** Whether this line is the one waited for. */
  wants(line: string): boolean;
  resolve(line: string): void;
  reject(error: Error): void;
}

function exitText(r: ChildResult): string {
  return `exited (${r.code ?? r.signal})`;
}

/** A spawned child whose output is being collected (see {@link launch}). */
interface Launched {
  readonly child: ChildProcessWithoutNullStreams;
  readonly done: Promise<ChildResult>;
  /** What it wrote to stderr so far. */
  stderr(): string;
}

/**
 * Spawns `command args` with pipes, collecting stdout and stderr; SIGKILL after `timeoutMs`.
 * `onStdout` sees each chunk and `onClose` runs before `done` resolves.
 */
function launch(
  command: string,
  args: string[],
  options: Omit<ChildOptions, 'input'>,
  onStdout: (chunk: string) => void = () => {},
  onClose: (result: ChildResult) => void = () => {},
): Launched {
  const { timeoutMs = 60_000, env, cwd } = options;
  const child = spawn(command, args, {
    cwd,
    env: env === undefined ? process.env : { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    onStdout(chunk);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdin.on('error', () => {});
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const done = new Promise<ChildResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code, signal, stdout, stderr, timedOut };
      onClose(result);
      resolve(result);
    });
  });
  return { child, done, stderr: () => stderr };
}

/**
 * Starts `command args` as a real child process that the test drives line by line: `send` a
 * command and read the reply, `next` line, or the first `line` containing a marker. It is killed
 * with SIGKILL after `timeoutMs`, and at the next `cleanup()` if still running then.
 */
export function startChild(
  command: string,
  args: string[] = [],
  options: Omit<ChildOptions, 'input'> = {},
): Child {
  let partial = '';
  let ended: ChildResult | undefined;
  const lines: string[] = [];
  let read = 0; // lines[read] is the next one `next` returns
  const waiters: Waiter[] = [];

  // lines[index] just arrived: the first `next` waiter takes it, every `line` waiter it matches
  // gets it too.
  const offer = (line: string, index: number) => {
    let taken = false;
    for (const w of waiters.slice()) {
      if (w.consumes) {
        if (taken || index !== read) continue;
        taken = true;
        read += 1;
      } else if (!w.wants(line)) {
        continue;
      }
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(line);
    }
  };
  const onStdout = (chunk: string) => {
    partial += chunk;
    let nl = partial.indexOf('\n');
    while (nl >= 0) {
      const line = partial.slice(0, nl).replace(/\r$/, '');
      partial = partial.slice(nl + 1);
      lines.push(line);
      offer(line, lines.length - 1);
      nl = partial.indexOf('\n');
    }
  };
  const onClose = (result: ChildResult) => {
    // A last line without a line break still counts.
    if (partial !== '') {
      lines.push(partial);
      offer(partial, lines.length - 1);
      partial = '';
    }
    ended = result;
    for (const w of waiters.splice(0))
      w.reject(new Error(`${exitText(result)} before the line waited for:\n${result.stderr}`));
  };
  const { child, done, stderr } = launch(command, args, options, onStdout, onClose);
  onCleanup(async () => {
    if (ended !== undefined) return;
    child.kill('SIGKILL');
    await done.catch(() => {});
  });

  const wait = (consumes: boolean, wants: (line: string) => boolean, ms?: number) =>
    new Promise<string>((resolve, reject) => {
      if (ended !== undefined) {
        reject(new Error(`${exitText(ended)} before the line waited for:\n${stderr()}`));
        return;
      }
      let timeout: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        consumes,
        wants,
        resolve(line) {
          clearTimeout(timeout);
          resolve(line);
        },
        reject(error) {
          clearTimeout(timeout);
          reject(error);
        },
      };
      if (ms !== undefined) {
        timeout = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`printed nothing within ${ms} ms; stderr: ${stderr()}`));
        }, ms);
      }
      waiters.push(waiter);
    });

  const next = (ms = 20_000): Promise<string> => {
    if (read < lines.length) return Promise.resolve(lines[read++] as string);
    return wait(true, () => true, ms);
  };

  return {
    pid: child.pid,
    done,
    get stderr() {
      return stderr();
    },
    next,
    line(marker) {
      const hit = lines.find((l) => l.includes(marker));
      if (hit !== undefined) return Promise.resolve(hit);
      return wait(false, (l) => l.includes(marker));
    },
    write(text) {
      child.stdin.write(text);
    },
    send(command, ms) {
      child.stdin.write(`${command}\n`);
      return next(ms);
    },
    end() {
      child.stdin.end();
    },
    kill(signal = 'SIGKILL') {
      child.kill(signal);
    },
  };
}

/**
 * Runs `command args` as a real child process and collects its output, exit code and signal;
 * kills it with SIGKILL after `timeoutMs` (the result then has `timedOut: true`).
 * `options.input` is written to its stdin.
 */
export function runChild(
  command: string,
  args: string[] = [],
  options: ChildOptions = {},
): Promise<ChildResult> {
  const { input, ...rest } = options;
  const { child, done } = launch(command, args, rest);
  if (input !== undefined) child.stdin.write(input);
  child.stdin.end();
  return done;
}

/** {@link runChild} for `node [nodeArgs] script ...args` with this process's node. */
export function runNode(
  script: string,
  args: string[] = [],
  options: ChildOptions & { nodeArgs?: string[] } = {},
): Promise<ChildResult> {
  const { nodeArgs = [], ...rest } = options;
  return runChild(process.execPath, [...nodeArgs, script, ...args], rest);
}
