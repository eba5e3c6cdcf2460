import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileC } from '../harness/cc.js';
import { secondsSince } from '../harness/stats.js';
import { defineSuite, type Metrics } from '../types.js';

type FilelockModule = typeof import('@luaipc/filelock');
type ProperLockfile = typeof import('proper-lockfile');

export interface FilelockParams {
  /** Timed pairs per run for fcntl-based cases (one tenth more run untimed first). */
  pairs: number;
  /** Timed pairs per run for proper-lockfile (a mkdir/rmdir each, plus a realpath). */
  slowPairs: number;
  /** The compiled bench/c/fcntl_pairs.c. */
  fcntlPairs: string;
}

/** A fresh file nobody else locks, in a directory of its own (proper-lockfile makes `<file>.lock`). */
function scratch(tag: string): { dir: string; file: string } {
  const dir = join(tmpdir(), `luaipc-bench-filelock-${tag}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'data');
  writeFileSync(file, 'x');
  return { dir, file };
}

export function pairMetrics(seconds: number, pairs: number): Metrics {
  return { seconds, pairs, nsPerPair: (seconds / pairs) * 1e9, pairsPerSec: pairs / seconds };
}

/** Runs `pair` `pairs / 10` times untimed, then `pairs` times timed. */
async function timedPairs(pairs: number, pair: () => unknown): Promise<Metrics> {
  for (let i = 0; i < pairs / 10; i++) await pair();
  const start = process.hrtime.bigint();
  for (let i = 0; i < pairs; i++) await pair();
  return pairMetrics(secondsSince(start), pairs);
}

/** Same as timedPairs for a synchronous pair: no await in the loop. */
function timedPairsSync(pairs: number, pair: () => unknown): Metrics {
  for (let i = 0; i < pairs / 10; i++) pair();
  const start = process.hrtime.bigint();
  for (let i = 0; i < pairs; i++) pair();
  return pairMetrics(secondsSince(start), pairs);
}

async function withFile<T>(tag: string, fn: (file: string) => T | Promise<T>): Promise<T> {
  const { dir, file } = scratch(tag);
  try {
    return await fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function filelockCase(
  params: FilelockParams,
  how: 'lockSync' | 'trylock' | 'lock',
): Promise<Metrics> {
  const fl = (await import('@luaipc/filelock')) as FilelockModule;
  return withFile(how, async (file) => {
    const fd = openSync(file, 'r+');
    try {
      if (how === 'lock') {
        return await timedPairs(params.pairs, async () => {
          await fl.lock(fd, 'w');
          fl.unlock(fd);
        });
      }
      const take = how === 'trylock' ? () => fl.trylock(fd, 'w') : () => fl.lockSync(fd, 'w');
      return timedPairsSync(params.pairs, () => {
        take();
        fl.unlock(fd);
      });
    } finally {
      closeSync(fd);
    }
  });
}

export default defineSuite<FilelockParams>({
  name: 'filelock',
  title: 'uncontended lock + unlock pairs on one file',
  about:
    'One process takes and releases an exclusive lock on a whole file nobody else locks, ' +
    '200k timed pairs (after 20k untimed; proper-lockfile: 2k). The C loop is the floor: ' +
    'fcntl F_OFD_SETLKW + F_UNLCK; @luaipc/filelock makes the same two calls plus one fstat ' +
    'per lock (the descriptor must be a regular file). proper-lockfile (the npm package most ' +
    'Node code locks with) creates and removes a `<file>.lock` directory, with its defaults ' +
    '(realpath on).',
  columns: [
    { key: 'nsPerPair', label: 'ns/pair', better: 'lower', format: 'fixed', digits: 0 },
    { key: 'pairsPerSec', label: 'pairs/s', better: 'higher', format: 'si' },
  ],
  ratios: [
    { metric: 'nsPerPair', against: 'c-fcntl' },
    { metric: 'pairsPerSec', against: 'proper-lockfile-sync' },
  ],
  targets: [
    {
      case: 'locksync',
      against: 'c-fcntl',
      metric: 'nsPerPair',
      op: '<=',
      value: 2,
      label: 'lockSync+unlock within 2x of C',
    },
    {
      case: 'locksync',
      against: 'proper-lockfile-sync',
      metric: 'pairsPerSec',
      op: '>=',
      value: 100,
      label: 'lockSync+unlock >= 100x proper-lockfile lockSync',
    },
    {
      case: 'locksync',
      against: 'proper-lockfile',
      metric: 'pairsPerSec',
      op: '>=',
      value: 100,
      label: 'lockSync+unlock >= 100x proper-lockfile lock',
    },
  ],
  prepare({ quick }) {
    return {
      pairs: quick ? 20_000 : 200_000,
      slowPairs: quick ? 200 : 2_000,
      fcntlPairs: compileC('fcntl_pairs'),
    };
  },
  cases: [
    {
      id: 'c-fcntl',
      label: 'C fcntl OFD lock + unlock',
      run: ({ params }) =>
        withFile('c', (file) => {
          const out = execFileSync(params.fcntlPairs, [file, String(params.pairs)], {
            encoding: 'utf8',
          });
          const { seconds, pairs } = JSON.parse(out) as { seconds: number; pairs: number };
          return pairMetrics(seconds, pairs);
        }),
    },
    {
      id: 'locksync',
      label: '@luaipc/filelock lockSync() + unlock()',
      run: ({ params }) => filelockCase(params, 'lockSync'),
    },
    {
      id: 'trylock',
      label: '@luaipc/filelock trylock() + unlock()',
      run: ({ params }) => filelockCase(params, 'trylock'),
    },
    {
      id: 'lock',
      label: '@luaipc/filelock await lock() + unlock()',
      run: ({ params }) => filelockCase(params, 'lock'),
    },
    {
      id: 'proper-lockfile-sync',
      label: 'proper-lockfile lockSync() + release()',
      async run({ params }) {
        const lockfile = (await import('proper-lockfile')) as ProperLockfile;
        return withFile('plsync', (file) =>
          timedPairsSync(params.slowPairs, () => {
            const release = lockfile.lockSync(file);
            release();
          }),
        );
      },
    },
    {
      id: 'proper-lockfile',
      label: 'proper-lockfile await lock() + release()',
      async run({ params }) {
        const lockfile = (await import('proper-lockfile')) as ProperLockfile;
        return withFile('pl', (file) =>
          timedPairs(params.slowPairs, async () => {
            const release = await lockfile.lock(file);
            await release();
          }),
        );
      },
    },
  ],
});
