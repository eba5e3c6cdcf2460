/**
 * `pnpm demo`: a parallel word count over a large text file, using every @luaipc package.
 *
 *   strfile   reads wordcount.conf (and parses the workers' partial counts)
 *   mmap      maps the input to cut it at line boundaries; each worker maps its own range
 *   proc      starts one worker process per task and collects what they print to stderr
 *   sem       lets at most `workers` of them count at once
 *   shm       carries each worker's progress (read live for the bars)
 *   channel   brings each worker's partial counts to the coordinator, one message each
 *   filelock  guards the results file the workers add their totals to
 *
 * The same input is then counted by a single process, for the speed-up and to check that both
 * give the same counts. Everything the run creates is removed at the end, on error and on
 * Ctrl-C (`--keep` keeps the run's directory with the results file and the counts).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { open as mapFile } from '@luaipc/mmap';
import { Command, InvalidArgumentError, Option } from 'commander';
import { type Config, readConfig } from './config.js';
import { createDisplay, type Display } from './display.js';
import { ensureInput } from './input.js';
import { phaseNames } from './layout.js';
import { type PhaseResult, runPhase } from './phase.js';
import { Interrupted, Resources } from './resources.js';

const defaultConfig = fileURLToPath(new URL('../../wordcount.conf', import.meta.url));

function number(min: number, integer = true) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`expected ${integer ? 'an integer' : 'a number'} >= ${min}`);
    }
    return n;
  };
}

const program = new Command('pnpm demo')
  .description(
    'Counts the words of a generated text with worker processes that share memory, a semaphore and a locked results file, then with one process, and compares.',
  )
  .option('-w, --workers <n>', 'worker processes counting at once (0: one per CPU)', number(0))
  .option(
    '-t, --tasks <n>',
    'pieces the input is cut into, one process each (0: 2 per worker)',
    number(0),
  )
  .option('-s, --size <MiB>', 'size of the generated input', number(0.001, false))
  .option('--seed <n>', "the text generator's seed", number(0))
  .option('--top <n>', 'words listed in the summary', number(0))
  .option('-c, --config <file>', 'settings file', defaultConfig)
  .option(
    '--cache-dir <dir>',
    'where the generated input is cached',
    join(os.tmpdir(), 'luaipc-wordcount'),
  )
  .option('--keep', "keep the run's directory (results file, counts.tsv) instead of removing it")
  .option('--no-baseline', 'skip the single-process run (no speed-up, no comparison)')
  .option('--plain', 'plain lines even on a terminal')
  .addOption(
    new Option('--throttle <ms>', 'test hook: sleep per 256 KiB counted')
      .argParser(number(0))
      .default(0)
      .hideHelp(),
  )
  .addOption(
    new Option('--fail-task <n>', 'test hook: task n fails halfway')
      .argParser(number(1))
      .hideHelp(),
  )
  .showHelpAfterError();

interface Options extends Partial<Config> {
  config: string;
  cacheDir: string;
  keep?: boolean;
  baseline: boolean;
  plain?: boolean;
  throttle: number;
  failTask?: number;
}

const fmt = (n: number) => n.toLocaleString('en-US');
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Byte ranges of whole lines, about `tasks` equal ones, found in a mapping of the input. */
function splitAtLines(path: string, tasks: number): [number, number][] {
  const input = mapFile(path); // 'r': a private, read-only view; nothing is read into the heap
  try {
    const bytes = input.buffer;
    const size = input.size();
    const cuts = [0];
    for (let i = 1; i < tasks; i++) {
      const from = Math.max(Math.floor((size * i) / tasks), cuts[cuts.length - 1] as number);
      const newline = bytes.indexOf(10, from > 0 ? from - 1 : 0);
      cuts.push(newline < 0 || newline + 1 > size ? size : newline + 1);
    }
    cuts.push(size);
    const ranges: [number, number][] = [];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const [a, b] = [cuts[i] as number, cuts[i + 1] as number];
      if (b > a) ranges.push([a, b]);
    }
    return ranges;
  } finally {
    input.close();
  }
}

/** Shared objects of this run still present (Linux keeps them as files in /dev/shm). */
function leftovers(prefix: string): string[] {
  if (process.platform !== 'linux') return [];
  return readdirSync('/dev/shm').filter(
    (f) => f.startsWith(prefix) || f.startsWith(`sem.${prefix}`),
  );
}

function top(counts: Map<string, number>, n: number): [string, number][] {
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n);
}

function sameCounts(a: Map<string, number>, b: Map<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [w, n] of a) if (b.get(w) !== n) return false;
  return true;
}

async function run(opts: Options, display: Display, resources: Resources, signal: AbortSignal) {
  const config = { ...readConfig(opts.config) };
  for (const key of ['workers', 'tasks', 'size', 'seed', 'top'] as const) {
    const value = opts[key];
    if (value !== undefined) config[key] = value;
  }
  const cpus = os.availableParallelism();
  const workers = config.workers > 0 ? config.workers : cpus;
  const tasks = config.tasks > 0 ? config.tasks : 2 * workers;
  const runId = `wc${process.pid.toString(36)}`;

  // The input, generated once per size and seed.
  let generating: string | undefined;
  const input = await ensureInput(
    opts.cacheDir,
    config.size,
    config.seed,
    (tmp) => {
      if (generating) resources.keep(generating);
      generating = tmp;
      if (tmp) resources.add('file', tmp, () => rmSync(tmp, { force: true }));
    },
    (() => {
      let began = false;
      return (done: number, total: number) => {
        signal.throwIfAborted();
        if (!began) {
          began = true;
          display.begin(`Generating ${mib(total)} of text (once; cached in ${opts.cacheDir})`, [
            { label: 'input', total },
          ]);
        }
        display.update(0, done, done < total ? 'writing' : 'done');
        if (done >= total) display.end();
      };
    })(),
  );

  const runDir = mkdtempSync(join(opts.cacheDir, `run-${process.pid}-`));
  if (!opts.keep)
    resources.add('directory', runDir, () => rmSync(runDir, { recursive: true, force: true }));
  const ranges = splitAtLines(input.path, tasks);
  const spec = {
    input: input.path,
    workers,
    slotBytes: Math.round(config.slot * 1024),
    throttleMs: opts.throttle,
    failTask: opts.failTask === undefined ? undefined : opts.failTask - 1,
  };
  display.log(
    `@luaipc word count: ${mib(input.bytes)} of text (${input.generated ? 'generated' : 'cached'}: ${input.path})`,
  );
  display.log(`settings: ${opts.config}; ${cpus} CPUs; run ${runId}, pid ${process.pid}\n`);

  const parallel = await runPhase(
    {
      ...spec,
      runId: `${runId}p`,
      title: `${ranges.length} worker processes, ${workers} counting at once (semaphore '${phaseNames(`${runId}p`).slots}')`,
      ranges,
      resultsFile: join(runDir, 'results-parallel.txt'),
    },
    display,
    resources,
    signal,
  );
  let single: PhaseResult | undefined;
  if (opts.baseline) {
    display.log('');
    single = await runPhase(
      {
        ...spec,
        workers: 1,
        failTask: undefined,
        runId: `${runId}s`,
        title: 'The same input in 1 worker process (the baseline)',
        ranges: [[0, input.bytes]],
        resultsFile: join(runDir, 'results-single.txt'),
      },
      display,
      resources,
      signal,
    );
    if (!sameCounts(parallel.counts, single.counts)) {
      throw new Error(`the ${ranges.length} tasks and the single process counted differently`);
    }
  }

  const sorted = top(parallel.counts, parallel.counts.size);
  writeFileSync(join(runDir, 'counts.tsv'), sorted.map(([w, n]) => `${w}\t${n}\n`).join(''));
  return {
    input,
    runDir,
    parallel,
    single,
    workers,
    cpus,
    top: sorted.slice(0, config.top),
    runId,
  };
}

async function main(): Promise<void> {
  const opts = program.parse().opts<Options>();
  const display = createDisplay(opts.plain === true);
  const resources = new Resources();
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => controller.abort(new Interrupted(sig));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const runId = `wc${process.pid.toString(36)}`;

  let outcome: Awaited<ReturnType<typeof run>> | undefined;
  let failure: unknown;
  try {
    mkdirSync(opts.cacheDir, { recursive: true });
    outcome = await run(opts, display, resources, controller.signal);
  } catch (error) {
    failure = controller.signal.aborted ? controller.signal.reason : error;
  } finally {
    display.end();
  }
  try {
    await resources.release();
  } catch (error) {
    failure ??= error;
  }
  const left = leftovers(runId);
  const cleaned = `removed ${resources.summary()}; left behind: ${left.length ? left.join(', ') : 'nothing'}`;

  if (failure instanceof Interrupted) {
    console.log(`\nInterrupted (${failure.signal}): ${cleaned}`);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.kill(process.pid, failure.signal); // end as the signal would have, now that all is clean
    return;
  }
  if (failure !== undefined || outcome === undefined) {
    console.error(
      `\nword count failed: ${failure instanceof Error ? failure.message : String(failure)}`,
    );
    console.error(cleaned);
    process.exitCode = 1;
    return;
  }
  const { parallel, single, input, workers, cpus } = outcome;
  const rate = (r: PhaseResult) => `${(input.bytes / 2 ** 20 / r.seconds).toFixed(1)} MiB/s`;
  const row = (label: string, value: string) => console.log(`  ${label.padEnd(22)} ${value}`);
  console.log('\nSummary');
  row(
    `${parallel.processes} tasks, ${workers} at once`,
    `${parallel.seconds.toFixed(2)} s   ${rate(parallel)}`,
  );
  if (single) {
    row('1 process (baseline)', `${single.seconds.toFixed(2)} s   ${rate(single)}`);
    row(
      'speed-up',
      `${(single.seconds / parallel.seconds).toFixed(2)}x with ${workers} workers on ${cpus} CPUs`,
    );
    row(
      'counts',
      `identical in both runs: ${fmt(parallel.words)} words, ${fmt(parallel.counts.size)} distinct, ${fmt(parallel.lines)} lines`,
    );
  } else {
    row(
      'counts',
      `${fmt(parallel.words)} words, ${fmt(parallel.counts.size)} distinct, ${fmt(parallel.lines)} lines`,
    );
  }
  row(
    'results file',
    `its total matches the partial counts (${parallel.fileTasks} processes added to it under a lock)`,
  );
  const words = outcome.top.map(([w, n]) => `${w} ${fmt(n)}`);
  for (let i = 0; i < words.length; i += 5) {
    row(i === 0 ? `top ${words.length} words` : '', words.slice(i, i + 5).join(' · '));
  }
  row('cleaned up', `removed ${resources.summary()}`);
  row('left behind', left.length ? left.join(', ') : 'nothing');
  if (opts.keep) row('kept', `${outcome.runDir} (results-*.txt, counts.tsv)`);
}

await main();
