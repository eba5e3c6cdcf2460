import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ChildResult, runNode } from '@luaipc/native/testing';

export type RunResult = ChildResult;

export const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

const dirs: string[] = [];

/** A fresh file (`size` bytes of 'x') in a directory of its own, removed by {@link cleanup}. */
export function tempFile(size = 64, name = 'lock'): string {
  const dir = mkdtempSync(join(tmpdir(), 'luaipc-filelock-'));
  dirs.push(dir);
  const path = join(dir, name);
  writeFileSync(path, 'x'.repeat(size));
  return path;
}

/** Removes every file {@link tempFile} made; call from afterEach. */
export function cleanup(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
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
 * Starts `node fixtures/<script> ...args` and lets a test follow it: its output lines as they
 * come, its stderr, its exit (killed after `killAfterMs`, so a hang fails the test).
 */
export function startFixture(script: string, args: string[], killAfterMs = 30_000) {
  const child = spawn(process.execPath, [join(fixtures, script), ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('exit', (code, signal) => resolve([code, signal])),
  );
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  void exited.then(() => clearTimeout(killer));
  return {
    child,
    exited,
    stderr: () => err,
    /** The first `n` output lines once there are `n` (fewer when the child ended first). */
    async lines(n: number): Promise<string[]> {
      while (out.split('\n').length <= n && child.exitCode === null && child.signalCode === null)
        await new Promise((r) => setTimeout(r, 20));
      return out.split('\n').slice(0, n);
    },
  };
}

/**
 * Another process holding locks on `path`, driven line by line (fixtures/locker.mjs for Node,
 * fixtures/py_lock.py for Python's fcntl.lockf): `await peer.send('lock w 0 0')` resolves with
 * its reply line.
 */
export class Peer {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr = '';
  #lines: string[] = [];
  #waiting: ((line: string) => void)[] = [];
  #buffer = '';

  private constructor(command: string, args: string[]) {
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#buffer += chunk;
      let nl = this.#buffer.indexOf('\n');
      while (nl >= 0) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        const waiter = this.#waiting.shift();
        if (waiter) waiter(line);
        else this.#lines.push(line);
        nl = this.#buffer.indexOf('\n');
      }
    });
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
    });
    this.child.stdin?.on('error', () => {});
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    peers.add(this);
  }

  /** A Node peer (fixtures/locker.mjs) with `path` open read-write; resolves once it is ready. */
  static async node(path: string): Promise<Peer> {
    const peer = new Peer(process.execPath, [join(fixtures, 'locker.mjs'), path]);
    await peer.expectLine('ready');
    return peer;
  }

  /** A Python peer using fcntl.lockf (fixtures/py_lock.py). */
  static async python(path: string): Promise<Peer> {
    const peer = new Peer('python3', [join(fixtures, 'py_lock.py'), path]);
    await peer.expectLine('ready');
    return peer;
  }

  /** The next line the peer prints (rejects after `ms`, with what it wrote to stderr). */
  next(ms = 20_000): Promise<string> {
    const queued = this.#lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#waiting.indexOf(done);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(new Error(`peer printed nothing within ${ms} ms; stderr: ${this.stderr}`));
      }, ms);
      const done = (line: string) => {
        clearTimeout(timer);
        resolve(line);
      };
      this.#waiting.push(done);
    });
  }

  async expectLine(expected: string): Promise<void> {
    const line = await this.next();
    if (line !== expected)
      throw new Error(`peer said ${line}, expected ${expected}; ${this.stderr}`);
  }

  /** Sends one command and resolves with the reply line. */
  send(command: string, ms?: number): Promise<string> {
    this.child.stdin?.write(`${command}\n`);
    return this.next(ms);
  }

  /** Sends a command whose reply comes later (a blocking lock); read it with next(). */
  post(command: string): void {
    this.child.stdin?.write(`${command}\n`);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal);
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.stdin?.write('exit\n');
      this.child.stdin?.end();
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await this.exited;
      clearTimeout(timer);
    }
    peers.delete(this);
  }
}

const peers = new Set<Peer>();

/** Ends every peer a test started (call from afterEach, so a failing test leaves none behind). */
export async function closePeers(): Promise<void> {
  await Promise.all([...peers].map((p) => p.close()));
}
