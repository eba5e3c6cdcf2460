// The showcase (`pnpm demo`) as a user runs it: the built coordinator in a child process, on a
// small input in a cache folder of the test's own. Each run must leave nothing behind: no shm
// segment or semaphore of the run in /dev/shm, no worker process, no file but the cached input.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../src/wordcount/config.js';

const examples = fileURLToPath(new URL('..', import.meta.url));
const main = join(examples, 'dist', 'wordcount', 'main.js');
const cache = mkdtempSync(join(os.tmpdir(), 'luaipc-wc-test-'));

interface Run {
  child: ChildProcess;
  stdout: () => string;
  done: Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>;
  /** Resolves once stdout contains `text`. */
  waitFor(text: string): Promise<void>;
}

/** Every run of this file, so that a failed test leaves nothing behind (afterEach). */
const started: ChildProcess[] = [];

function start(args: string[], options: { detached?: boolean; cacheDir?: string } = {}): Run {
  const child = spawn(process.execPath, [main, '--cache-dir', options.cacheDir ?? cache, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  started.push(child);
  let stdout = '';
  let stderr = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    for (const w of waiters.filter((x) => stdout.includes(x.text))) w.resolve();
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const done = new Promise<Awaited<Run['done']>>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    stdout: () => stdout,
    done,
    waitFor: (text) =>
      stdout.includes(text)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            waiters.push({ text, resolve });
            done.then(() => reject(new Error(`exited before printing '${text}':\n${stdout}`)));
          }),
  };
}

/** The coordinator's run id, as its shared objects and workers' arguments carry it. */
const runId = (pid: number | undefined) => `wc${(pid as number).toString(36)}`;

function shmLeft(id: string): string[] {
  return readdirSync('/dev/shm').filter((f) => f.startsWith(id) || f.startsWith(`sem.${id}`));
}

/** Processes whose command line names the run (its workers get the objects' names). */
function processesLeft(id: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmd.includes(`"${id}`)) found.push(`${pid}: ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** What is in the cache folder besides cached inputs: nothing after a run without --keep. */
function cacheLeft(dir = cache): string[] {
  return readdirSync(dir).filter((f) => !/^words-v\d+-\d+-\d+\.txt$/.test(f));
}

function expectClean(pid: number | undefined, dir = cache): void {
  const id = runId(pid);
  expect(shmLeft(id)).toEqual([]);
  expect(processesLeft(id)).toEqual([]);
  expect(cacheLeft(dir)).toEqual([]);
}

/** The counts, computed here without any @luaipc package. */
function referenceCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const w of text.toLowerCase().match(/[a-z']+/g) ?? [])
    counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
}

function readCounts(file: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const [w, n] = line.split('\t');
    counts.set(w as string, Number(n));
  }
  return counts;
}

beforeAll(() => {
  // The tests run what `pnpm demo` runs: the built files, from the sources as they are now.
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: examples,
    encoding: 'utf8',
  });
  expect(r.stdout + r.stderr).toBe('');
}, 120_000);
afterAll(() => rmSync(cache, { recursive: true, force: true }));

// After a test that failed half-way: its coordinator, its workers and its shared objects go. A
// passing test has already checked that there was nothing left (expectClean).
afterEach(() => {
  for (const child of started.splice(0)) {
    const id = runId(child.pid);
    for (const line of processesLeft(id)) {
      try {
        process.kill(Number(line.split(':')[0]), 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const file of shmLeft(id)) rmSync(join('/dev/shm', file), { force: true });
  }
});

describe('the word-count showcase', () => {
  it('counts with workers and with one process, prints the summary, removes everything', async () => {
    const run = start(['--size', '4', '--workers', '2', '--tasks', '4']);
    const r = await run.done;
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0, signal: null });
    // Not a terminal: plain lines, no cursor movements or bars.
    expect(r.stdout).not.toContain('\x1b[');
    expect(r.stdout).toMatch(/^ {2}task \d: counting$/m);
    expect(r.stdout).toMatch(/^ {2}total: 100%/m);
    expect(r.stdout).toMatch(/^ {2}4 tasks, 2 at once +\d+\.\d\d s/m);
    expect(r.stdout).toMatch(/^ {2}1 process \(baseline\) +\d+\.\d\d s/m);
    expect(r.stdout).toMatch(/^ {2}speed-up +\d+\.\d\dx with 2 workers/m);
    expect(r.stdout).toMatch(/^ {2}counts +identical in both runs: [\d,]+ words/m);
    expect(r.stdout).toMatch(/its total matches the partial counts \(4 processes/);
    expect(r.stdout).toMatch(/^ {2}top 10 words +the [\d,]+ · /m);
    expect(r.stdout).toMatch(
      /^ {2}cleaned up +removed 5 worker processes, 2 semaphores, 2 channels, 2 shm segments, 1 directory$/m,
    );
    expect(r.stdout).toMatch(/^ {2}left behind +nothing$/m);
    expectClean(run.child.pid);
  });

  it('gives the same counts with 1 worker and with 3, and they are the right ones', async () => {
    const counts: Map<string, number>[] = [];
    const kept: string[] = [];
    try {
      for (const workers of ['1', '3']) {
        const run = start(['--size', '4', '--workers', workers, '--no-baseline', '--keep']);
        const r = await run.done;
        expect(r.stderr).toBe('');
        expect(r).toMatchObject({ code: 0, signal: null });
        const dir = /^ {2}kept +(\S+) /m.exec(r.stdout)?.[1] as string;
        expect(dir).toBeDefined();
        kept.push(dir);
        expect(readdirSync(dir).sort()).toEqual(['counts.tsv', 'results-parallel.txt']);
        // The results file: every task added its line under the lock, and the total adds up.
        const results = readFileSync(join(dir, 'results-parallel.txt'), 'utf8');
        const tasks = Number(workers) * 2;
        expect(results).toMatch(new RegExp(`^total tasks=${tasks} `, 'm'));
        expect(results.match(/^task \d+ pid=\d+/gm)).toHaveLength(tasks);
        counts.push(readCounts(join(dir, 'counts.tsv')));
        expect(shmLeft(runId(run.child.pid))).toEqual([]);
        expect(processesLeft(runId(run.child.pid))).toEqual([]);
      }
      const input = readdirSync(cache).find((f) => f.startsWith(`words-v2-${4 * 2 ** 20}-`));
      const reference = referenceCounts(readFileSync(join(cache, input as string), 'utf8'));
      expect(reference.size).toBeGreaterThan(1000);
      expect(counts[0]).toEqual(reference);
      expect(counts[1]).toEqual(reference);
    } finally {
      for (const dir of kept) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lets no more than --workers processes count at once (the semaphore)', async () => {
    for (const [workers, tasks] of [
      [1, 3],
      [2, 6],
    ] as const) {
      const run = start([
        '--size',
        '4',
        '--workers',
        `${workers}`,
        '--tasks',
        `${tasks}`,
        '--no-baseline',
        '--keep',
        '--throttle',
        '100',
      ]);
      const r = await run.done;
      expect(r).toMatchObject({ code: 0, signal: null });
      const dir = /^ {2}kept +(\S+) /m.exec(r.stdout)?.[1] as string;
      try {
        const results = readFileSync(join(dir, 'results-parallel.txt'), 'utf8');
        // When each task held its slot: [from, to) in ms. The most holding one at the same moment.
        const held = [...results.matchAll(/ slot=([\d.]+)-([\d.]+)$/gm)].map(
          (m) => [Number(m[1]), Number(m[2])] as const,
        );
        expect(held).toHaveLength(tasks);
        const most = Math.max(
          ...held.map(([t]) => held.filter(([a, b]) => a <= t && t < b).length),
        );
        expect(most).toBe(workers);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it('on a failing worker: reports it, exits 1, kills the others, removes everything', async () => {
    const run = start([
      '--size',
      '4',
      '--workers',
      '2',
      '--tasks',
      '4',
      '--fail-task',
      '2',
      '--throttle',
      '20',
    ]);
    const r = await run.done;
    expect(r).toMatchObject({ code: 1, signal: null });
    expect(r.stderr).toMatch(
      /word count failed: task 2 \(pid \d+\) exited with status 1: task 2: failing halfway/,
    );
    expect(r.stderr).toMatch(/left behind: nothing/);
    expect(r.stderr.trim().split('\n')).toHaveLength(2); // nothing else: no stray rejection
    expectClean(run.child.pid);
  });

  it('on SIGINT to the coordinator while workers count: ends by SIGINT, removes everything', async () => {
    const run = start(['--size', '4', '--throttle', '200']);
    await run.waitFor(': counting');
    // The control segment, the semaphore, and the results channel: its segment, lock file and
    // doorbell (and a doorbell per worker that had to wait for room: none here).
    const id = `${runId(run.child.pid)}p`;
    expect(shmLeft(runId(run.child.pid)).sort()).toEqual(
      [`${id}-ctl`, `${id}-res`, `${id}-res.lock`, `${id}-res.rx`, `sem.${id}-slots`].sort(),
    );
    expect(processesLeft(runId(run.child.pid)).length).toBeGreaterThan(0);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r).toMatchObject({ code: null, signal: 'SIGINT' });
    expect(r.stdout).toMatch(
      /Interrupted \(SIGINT\): removed \d+ worker processes?, 1 semaphore, 1 channel, 1 shm segment, 1 directory; left behind: nothing/,
    );
    expect(r.stderr).toBe('');
    expectClean(run.child.pid);
  });

  it("on Ctrl-C to the whole process group (a terminal's): the same", async () => {
    const run = start(['--size', '4', '--throttle', '200'], { detached: true });
    await run.waitFor(': counting');
    process.kill(-(run.child.pid as number), 'SIGINT');
    const r = await run.done;
    expect(r).toMatchObject({ code: null, signal: 'SIGINT' });
    expect(r.stdout).toMatch(/Interrupted \(SIGINT\): .*left behind: nothing/);
    expectClean(run.child.pid);
  });

  it('on SIGINT while generating the input: no partial input file stays', async () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'luaipc-wc-gen-'));
    try {
      const run = start(['--size', '512'], { cacheDir: dir });
      await run.waitFor('Generating');
      await new Promise((resolve) => setTimeout(resolve, 300));
      run.child.kill('SIGINT');
      const r = await run.done;
      expect(r).toMatchObject({ code: null, signal: 'SIGINT' });
      expect(r.stdout).toMatch(/Interrupted \(SIGINT\): removed 1 file; left behind: nothing/);
      expect(readdirSync(dir)).toEqual([]);
      expectClean(run.child.pid, dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!hasScript)(
    'on a terminal: draws progress bars, and the cursor comes back',
    async () => {
      // util-linux `script` gives the coordinator a pseudo-terminal as stdout.
      const command = [process.execPath, main, '--cache-dir', cache, '--size', '4', '--no-baseline']
        .map((a) => `'${a}'`)
        .join(' ');
      const r = spawnSync('script', ['-qec', command, '/dev/null'], {
        encoding: 'utf8',
        timeout: 90_000,
      });
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/task 4 █+ 100% 1\.0 MiB \/ 1\.0 MiB/);
      expect(r.stdout).toContain('\x1b[?25l'); // cursor hidden while the bars run...
      expect(r.stdout).toContain('\x1b[?25h'); // ...and shown again
      expect(r.stdout).toMatch(/left behind +nothing/);
    },
  );
});

describe('wordcount.conf, read with @luaipc/strfile', () => {
  it("reads Lua numerals and comments, and says what's wrong with a bad line", () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'luaipc-wc-conf-'));
    try {
      const file = join(dir, 'wc.conf');
      writeFileSync(
        file,
        '-- comment\nworkers = 3 -- three\nseed = 0x10\nsize = 1e1\n\ntop=.5e1\n',
      );
      expect(readConfig(file)).toEqual({
        workers: 3,
        tasks: 0,
        size: 10,
        seed: 16,
        top: 5,
        slot: 1024,
      });
      writeFileSync(file, 'workers = 3\nsize = big\n');
      expect(() => readConfig(file)).toThrow(`${file}:2: 'big' is not a number`);
      writeFileSync(file, 'speed = 3\n');
      expect(() => readConfig(file)).toThrow(`${file}:1: expected one of workers, tasks`);
      writeFileSync(file, 'size = 3 4\n');
      expect(() => readConfig(file)).toThrow(`${file}:1: '3 4' is not a number`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the shipped file gives the defaults', () => {
    expect(readConfig(join(examples, 'wordcount.conf'))).toEqual({
      workers: 0,
      tasks: 0,
      size: 128,
      seed: 0x5eed,
      top: 10,
      slot: 1024,
    });
  });
});
