import { type ChildProcess, spawn } from 'node:child_process';
import { runnerPath } from './paths.js';

/** Set by the runner from the placement: the CPUs peers are pinned to, if any. */
export const PEER_CPUS_ENV = 'LUAIPC_BENCH_PEER_CPUS';

/** The CPU list peers of this case run on (`placement.peerCpus`), or undefined. */
export function peerCpus(): string | undefined {
  return process.env[PEER_CPUS_ENV] || undefined;
}

export interface PeerOptions {
  /** Open Node's IPC channel to the peer (`process.send`); default true. */
  ipc?: boolean;
  /** How `process.send` serializes (child_process's `serialization`); default `'json'`. */
  serialization?: 'json' | 'advanced';
}

/**
 * Starts `suite.peers[name](args)` in a new `node` process: the other side of a two-process case.
 * It inherits the case's CPU affinity (set by `taskset` on the case process), or runs under
 * `taskset -c <placement.peerCpus>` when the placement sets one; stdout and stderr are inherited.
 * The caller must make the peer exit (or kill it) before `run` returns.
 */
export function spawnPeer(
  suite: string,
  name: string,
  args: string[] = [],
  options: PeerOptions = {},
): ChildProcess {
  const argv = [...process.execArgv, runnerPath, '--peer', suite, name, ...args];
  const cpus = peerCpus();
  const [command, commandArgs] = cpus
    ? ['taskset', ['-c', cpus, process.execPath, ...argv]]
    : [process.execPath, argv];
  const stdio = ['ignore', 'inherit', 'inherit', ...(options.ipc === false ? [] : ['ipc'])];
  // spawn with an 'ipc' stdio slot is what fork does, and it lets taskset sit in front of node.
  return spawn(command as string, commandArgs as string[], {
    stdio: stdio as ('ignore' | 'inherit' | 'ipc')[],
    serialization: options.serialization ?? 'json',
  });
}

/** Resolves with the peer's exit code; rejects if it was killed by a signal or failed to start. */
export function peerExit(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) {
      resolve(child.exitCode);
      return;
    }
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (signal) reject(new Error(`peer killed by ${signal}`));
      else resolve(code ?? 0);
    });
  });
}
