/**
 * One counting phase: the shared objects, one worker process per task (at most `workers` of
 * them counting at once, gated by a semaphore), the live display fed from the shared progress
 * counters, and the merge of the partial counts the workers send through a channel.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { create as createChannel, type Receiver } from '@luaipc/channel';
import { lock, unlock } from '@luaipc/filelock';
import { spawn } from '@luaipc/proc';
import { open as openSemaphore } from '@luaipc/sem';
import { create } from '@luaipc/shm';
import { open as openString } from '@luaipc/strfile';
import type { Display } from './display.js';
import { type Job, phaseNames, REC_BYTES, Rec, record, STATE_NAMES } from './layout.js';
import { Interrupted, type Resources } from './resources.js';

const workerScript = fileURLToPath(new URL('./worker.js', import.meta.url));

export interface PhaseSpec {
  /** Prefix of the shared objects' names, unique to this phase of this run. */
  runId: string;
  title: string;
  input: string;
  /** The byte range of each task: whole lines. */
  ranges: [number, number][];
  workers: number;
  /** Bytes of each worker's ring in the results channel: its partial counts are one message. */
  slotBytes: number;
  resultsFile: string;
  throttleMs: number;
  failTask: number | undefined;
}

export interface PhaseResult {
  seconds: number;
  counts: Map<string, number>;
  lines: number;
  words: number;
  /** Processes that added their totals to the results file (read back under a shared lock). */
  fileTasks: number;
  /** Worker processes started. */
  processes: number;
}

function failure(task: number, pid: number, how: string, code: number, output: string): Error {
  // Ctrl-C on a terminal reaches the whole process group: the workers may see it first.
  if (how === 'signal' && code === os.constants.signals.SIGINT) return new Interrupted('SIGINT');
  if (how === 'signal' && code === os.constants.signals.SIGTERM) return new Interrupted('SIGTERM');
  const ending = how === 'exit' ? `exited with status ${code}` : `was killed by signal ${code}`;
  const said = output.trim() ? `: ${output.trim().split('\n').slice(-3).join(' / ')}` : '';
  return new Error(`task ${task} (pid ${pid}) ${ending}${said}`);
}

export async function runPhase(
  spec: PhaseSpec,
  display: Display,
  resources: Resources,
  signal: AbortSignal,
): Promise<PhaseResult> {
  const names = phaseNames(spec.runId);
  const tasks = spec.ranges.length;
  // Everything of this phase is released when it ends; `resources` (the run's) takes over
  // whatever is still held if the process is interrupted before that.
  const [mine, releaseMine] = resources.scope(`phase ${spec.runId}`);

  const control = create(names.control, tasks * REC_BYTES, { encoding: 'buffer' });
  mine.add('shm segment', names.control, () => void control.close());
  const results = createChannel(names.results, {
    capacity: spec.slotBytes,
    encoding: 'utf8',
    maxSenders: tasks,
  });
  mine.add('channel', names.results, () => results.close());
  // Taken as they come, while the workers run (a ring holds what its sender sent until then).
  const collected = collect(results, tasks);
  const slots = openSemaphore(names.slots, spec.workers);
  mine.add('semaphore', names.slots, () => slots.close());
  writeFileSync(
    spec.resultsFile,
    '# one line per task, added under an exclusive lock\ntotal tasks=0 lines=0 words=0 bytes=0\n',
  );

  display.begin(
    spec.title,
    spec.ranges.map(([start, end], i) => ({ label: `task ${i + 1}`, total: end - start })),
  );
  const poll = () => {
    for (let i = 0; i < tasks; i++) {
      const rec = record(control.buffer, i);
      display.update(i, rec[Rec.bytesDone] ?? 0, STATE_NAMES[rec[Rec.state] ?? 0] ?? '?');
    }
  };
  const timer = setInterval(poll, 100);
  const started = performance.now();
  try {
    const waits = spec.ranges.map(async ([start, end], task) => {
      const job: Job = {
        task,
        names,
        input: spec.input,
        start,
        end,
        resultsFile: spec.resultsFile,
        throttleMs: spec.throttleMs,
        fail: task === spec.failTask,
      };
      // What the worker prints (only an error, normally): the failure message quotes it.
      let output = '';
      const child = spawn([process.execPath, workerScript, JSON.stringify(job)], {
        stdout: true,
        stderr: true,
        callback: (_stream, data) => {
          if (data !== null) output += data;
        },
      });
      const forget = mine.add('worker process', String(child.pid), async () => {
        if (!child.closed) {
          // Still running only when the phase failed or was interrupted.
          child.kill('term');
          const gone = AbortSignal.timeout(2000);
          await child.wait({ signal: gone }).catch(() => {
            child.kill('kill');
            return child.wait();
          });
          child.close();
        }
      });
      const [ok, how, code] = await child.wait({ signal });
      child.close();
      await forget();
      if (!ok) throw failure(task + 1, child.pid, how, code, output);
    });
    await Promise.all(waits);
    poll();

    const counts = await collected;
    let lines = 0;
    let words = 0;
    for (let task = 0; task < tasks; task++) {
      const rec = record(control.buffer, task);
      lines += rec[Rec.lines] ?? 0;
      words += rec[Rec.words] ?? 0;
    }
    const seconds = (performance.now() - started) / 1000;
    const fileTasks = await checkResultsFile(spec.resultsFile, tasks, lines, words);
    return { seconds, counts, lines, words, fileTasks, processes: tasks };
  } finally {
    clearInterval(timer);
    display.end();
    await releaseMine();
  }
}

/**
 * The partial counts of `tasks` workers, one message each: the task's number, then "count word"
 * lines, read with Lua's formats. Ends early (with what came) if the channel is closed: the
 * phase failed or was interrupted.
 */
async function collect(results: Receiver<string>, tasks: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let received = 0;
  for await (const message of results) {
    const text = openString(message);
    text.read('n'); // the task's number: order does not matter for a sum
    for (const [n, word] of text.lines('n', 'l')) {
      const w = String(word).trim();
      counts.set(w, (counts.get(w) ?? 0) + Number(n));
    }
    if (++received === tasks) break;
  }
  return counts;
}

/** Reads the results file under a shared lock and checks its total against the partial counts. */
async function checkResultsFile(path: string, tasks: number, lines: number, words: number) {
  const file = await openFile(path, 'r');
  try {
    await lock(file, 'r');
    const text = readFileSync(path, 'utf8');
    unlock(file);
    const total = /^total tasks=(\d+) lines=(\d+) words=(\d+)/m.exec(text);
    const [t, l, w] = (total?.slice(1) ?? []).map(Number);
    if (t !== tasks || l !== lines || w !== words) {
      throw new Error(
        `${path}: total ${total?.[0]} does not match the partial counts (${tasks} tasks, ${lines} lines, ${words} words)`,
      );
    }
    return t;
  } finally {
    await file.close();
  }
}
