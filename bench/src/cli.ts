/**
 * `pnpm bench [suite...] [--quick] [--reps N] [--no-write] [--list] [--chart]`
 *
 * Runs the suites, each case in a fresh child process, cases alternating within every
 * repetition; prints one markdown table per suite and placement and writes them with the
 * machine's description to bench/RESULTS.md (not in quick runs), and the headline chart drawn
 * from it to bench/RESULTS.svg. `--chart` only redraws the chart from RESULTS.md.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { writeChart } from './harness/chart.js';
import { benchRoot, RESULT_PREFIX, runnerPath } from './harness/paths.js';
import {
  type CaseRuns,
  mergeResults,
  renderHeader,
  renderSuite,
  type SuiteResult,
} from './harness/report.js';
import { secondsSince } from './harness/stats.js';
import { suites } from './suites/index.js';
import { type CaseContext, type Metrics, NOT_PINNED, type Placement, type Suite } from './types.js';

interface Options {
  names: string[];
  quick: boolean;
  reps: number | undefined;
  write: boolean;
  list: boolean;
  chart: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    names: [],
    quick: process.env.BENCH_QUICK === '1',
    reps: undefined,
    write: true,
    list: false,
    chart: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--quick') options.quick = true;
    else if (arg === '--no-write') options.write = false;
    else if (arg === '--list') options.list = true;
    else if (arg === '--chart') options.chart = true;
    else if (arg === '--reps') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) throw new Error('--reps needs a positive integer');
      options.reps = n;
    } else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}`);
    else options.names.push(arg);
  }
  // A quick run is a smoke test: its figures must not replace real ones.
  if (options.quick) options.write = false;
  return options;
}

const hasTaskset = spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;

/** Extra `node` flags for case processes, e.g. BENCH_NODE_ARGS=--cpu-prof to profile a case. */
const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);

function runCase(
  suite: Suite<unknown>,
  caseId: string,
  context: CaseContext<unknown>,
): Promise<Metrics> {
  const argv = [...nodeArgs, runnerPath, suite.name, caseId, JSON.stringify(context)];
  const cpus = context.placement.cpus;
  const [command, args] =
    cpus && hasTaskset
      ? ['taskset', ['-c', cpus, process.execPath, ...argv]]
      : [process.execPath, argv];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args as string[], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timeout = setTimeout(
      () => {
        child.kill('SIGKILL');
        reject(new Error(`timed out after ${suite.timeoutSec ?? 120} s`));
      },
      (suite.timeoutSec ?? 120) * 1000,
    );
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timeout);
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code === 0 && line) {
        resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as Metrics);
        return;
      }
      const why = signal ? `killed by ${signal}` : `exit code ${code}`;
      // The message (the first line that is not a stack frame), then where it came from.
      const lines = stderr.trim().split('\n');
      const message = lines.find((l) => l.trim() !== '' && !/^\s+at /.test(l));
      const where = lines.filter((l) => /^\s+at /.test(l)).slice(0, 2);
      const detail = [message, ...where].filter(Boolean).join(' / ') || 'no result line';
      reject(new Error(`${why}: ${detail}`));
    });
  });
}

function describe(metrics: Metrics, suite: Suite<unknown>): string {
  const first = suite.columns[0];
  const seconds = metrics.seconds === undefined ? '' : `${metrics.seconds.toFixed(2)} s`;
  const value =
    first && metrics[first.key] !== undefined
      ? `${Number(metrics[first.key]).toPrecision(4)} ${first.label}`
      : '';
  return [seconds, value].filter(Boolean).join(', ');
}

async function runSuite(suite: Suite<unknown>, options: Options): Promise<SuiteResult> {
  const reps = options.reps ?? (options.quick ? 2 : (suite.reps ?? 5));
  const placements: Placement[] = (suite.placements ?? [NOT_PINNED]).map((p) =>
    p.cpus && !hasTaskset ? { id: p.id, label: `${p.label}: taskset missing, not pinned` } : p,
  );
  const date = new Date();
  const loadBefore = os.loadavg();
  process.stderr.write(`\n== ${suite.name}: ${suite.title}\n`);
  const prepStart = process.hrtime.bigint();
  const params = suite.prepare ? await suite.prepare({ quick: options.quick }) : {};
  if (suite.prepare)
    process.stderr.write(`   prepared in ${secondsSince(prepStart).toFixed(1)} s\n`);
  const results = placements.map((placement) => ({
    placement,
    cases: suite.cases.map((c): CaseRuns => ({ caseId: c.id, runs: [], errors: [] })),
  }));
  for (let rep = 1; rep <= reps; rep++) {
    for (const { placement, cases } of results) {
      for (const [i, benchCase] of suite.cases.entries()) {
        const where = placements.length > 1 ? ` ${placement.id}` : '';
        process.stderr.write(
          `   [${suite.name} ${rep}/${reps}${where}] ${benchCase.label.padEnd(34)} `,
        );
        const start = process.hrtime.bigint();
        try {
          const metrics = await runCase(suite, benchCase.id, {
            params,
            quick: options.quick,
            placement,
          });
          (cases[i] as CaseRuns).runs.push(metrics);
          process.stderr.write(
            `${describe(metrics, suite)} (${secondsSince(start).toFixed(1)} s)\n`,
          );
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          (cases[i] as CaseRuns).errors.push(message);
          process.stderr.write(`FAILED: ${message}\n`);
        }
      }
    }
  }
  return { suite, reps, date, placements: results, loadBefore };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.list) {
    for (const s of suites) console.log(`${s.name.padEnd(10)} ${s.title}`);
    return;
  }
  if (options.chart) {
    process.stderr.write(`wrote ${writeChart(join(benchRoot, 'RESULTS.md'))}\n`);
    return;
  }
  // A name selects that suite and its family: `channel` also runs `channel-big`, `channel-rtt`...
  const picks = (name: string, suite: Suite<unknown>) =>
    suite.name === name || suite.name.startsWith(`${name}-`);
  const unknown = options.names.filter((n) => !suites.some((s) => picks(n, s)));
  if (unknown.length) {
    throw new Error(
      `unknown suite ${unknown.join(', ')} (have: ${suites.map((s) => s.name).join(', ')})`,
    );
  }
  if (!existsSync(runnerPath)) throw new Error(`${runnerPath} missing: run the build first`);
  const selected = options.names.length
    ? suites.filter((s) => options.names.some((n) => picks(n, s)))
    : suites;
  const start = process.hrtime.bigint();
  const sections = new Map<string, string>();
  let failures = 0;
  for (const suite of selected) {
    const result = await runSuite(suite, options);
    failures += result.placements.reduce(
      (n, p) => n + p.cases.reduce((m, c) => m + c.errors.length, 0),
      0,
    );
    const markdown = renderSuite(result);
    sections.set(suite.name, markdown);
    process.stdout.write(`\n${markdown}\n`);
  }
  process.stderr.write(`\nall suites done in ${secondsSince(start).toFixed(0)} s\n`);
  if (options.write) {
    const file = join(benchRoot, 'RESULTS.md');
    const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const header = renderHeader(new Date(), suites);
    writeFileSync(
      file,
      mergeResults(
        previous,
        header,
        sections,
        suites.map((s) => s.name),
      ),
    );
    process.stderr.write(`wrote ${file} and ${writeChart(file)}\n`);
  } else {
    process.stderr.write('not writing RESULTS.md (quick run or --no-write)\n');
  }
  if (failures) {
    process.stderr.write(`${failures} case run(s) failed\n`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
