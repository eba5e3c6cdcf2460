/**
 * The shape of a benchmark suite. A suite is one module in `src/suites/`, registered in
 * `src/suites/index.ts`. The harness (`cli.ts`) runs every case of a suite in a fresh child
 * process (`runner.ts`), alternating the cases across repetitions, and reports medians, ratios
 * against the baselines the suite names, and whether each target is met.
 */

/** What one run of a case reports: named numbers (the suite's columns pick which to show). */
export type Metrics = Record<string, number>;

/**
 * Where the processes of a case run. `cpus` is passed to `taskset -c` for the case process (and
 * so inherited by what it starts); `peerCpus`, when set, pins peers started with `spawnPeer`
 * (and the child side of the C programs) elsewhere. Absent means not pinned.
 */
export interface Placement {
  /** Short id, used in progress output. */
  id: string;
  /** Shown in the table heading, e.g. `same CPU (taskset -c 0)`. */
  label: string;
  cpus?: string;
  peerCpus?: string;
}

export const NOT_PINNED: Placement = { id: 'free', label: 'not pinned' };
/** Both processes of a two-process case share CPU 0: wake-ups need no cross-CPU interrupt. */
export const SAME_CPU: Placement = { id: 'cpu0', label: 'same CPU (taskset -c 0)', cpus: '0' };
/** Both processes may use CPUs 0 and 1; the scheduler decides (often one on each). */
export const TWO_CPUS: Placement = {
  id: 'cpu01',
  label: 'two CPUs (taskset -c 0,1)',
  cpus: '0,1',
};

/** Each process on its own CPU: every wake-up crosses CPUs, the expensive case on this kind of VM. */
export const SPLIT_CPUS: Placement = {
  id: 'split',
  label: 'one CPU each (taskset -c 0 / -c 1)',
  cpus: '0',
  peerCpus: '1',
};

/** Passed to every `run`: the suite's prepared parameters and the run mode. */
export interface CaseContext<P> {
  /** What the suite's `prepare` returned in the parent (JSON round-tripped). */
  params: P;
  /** `BENCH_QUICK=1` or `--quick`: a smoke run with small inputs. */
  quick: boolean;
  placement: Placement;
}

export interface BenchCase<P> {
  /** Stable id: used by `ratios`, `targets` and `node dist/runner.js <suite> <id>`. */
  id: string;
  /** Shown in the table. */
  label: string;
  /**
   * Runs once in a fresh child process and returns its metrics. Import the package under test
   * inside `run` (`await import(...)`) so the child loads only what it measures. The runner
   * adds `rssMiB` (peak RSS of this process, from `process.resourceUsage().maxRSS`).
   */
  run(ctx: CaseContext<P>): Promise<Metrics> | Metrics;
}

export interface Column {
  /** Key in the cases' metrics. */
  key: string;
  /** Column heading, with unit: `lines/s`, `µs/round trip`. */
  label: string;
  /** Which direction is better: decides how ratios read ("2.0x faster" or "0.5x the time"). */
  better: 'higher' | 'lower';
  /** Significant formatting: `si` gives 1.23M, `fixed` gives the number with `digits` decimals. */
  format?: 'si' | 'fixed';
  digits?: number;
}

/** A ratio column: `metric` of each case divided by `metric` of case `against`. */
export interface Ratio {
  metric: string;
  against: string;
}

/**
 * A target from an issue, checked on medians: `metric(case) / metric(against) <op> value`.
 * E.g. lines() at least 3x readline: `{ case: 'strfile', against: 'readline',
 * metric: 'linesPerSec', op: '>=', value: 3 }`.
 */
export interface Target {
  case: string;
  against: string;
  metric: string;
  op: '>=' | '<=' | '<' | '>';
  value: number;
  /** How the table names it, e.g. `lines() >= 3x readline (lines/s)`. */
  label: string;
}

export interface Suite<P = unknown> {
  /** Command-line name: `pnpm bench <name>`. */
  name: string;
  /** One-line heading for the table. */
  title: string;
  /** A sentence or two on what is measured and how. */
  about: string;
  /** Repetitions of every case (default 5; quick runs use 2). */
  reps?: number;
  /** Where to run the cases; one table per placement (default: not pinned). */
  placements?: Placement[];
  /** Kill a case that runs longer than this (default 120 s). */
  timeoutSec?: number;
  columns: Column[];
  ratios: Ratio[];
  targets: Target[];
  /**
   * Runs once in the parent before any case (generate inputs, compile C programs). The result
   * must be JSON: it reaches each case as `ctx.params`.
   */
  prepare?(opts: { quick: boolean }): Promise<P> | P;
  cases: BenchCase<P>[];
  /**
   * Helper processes a case starts (the other side of a ping-pong): started with
   * `spawnPeer(suite, name, args)` from `harness/peer.ts`, they run `peers[name](args)`.
   */
  peers?: Record<string, (args: string[]) => Promise<void> | void>;
}

/** Identity helper that keeps the parameter type of a suite's cases and prepare in sync. */
export function defineSuite<P>(suite: Suite<P>): Suite<P> {
  return suite;
}
