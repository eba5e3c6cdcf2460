/**
 * One task of the word count, run as its own process by the coordinator (`node worker.js
 * <job>`). It waits for a slot on the semaphore, maps its byte range of the input, counts the
 * words line by line while publishing its progress in shared memory, sends its partial counts
 * to the coordinator through a channel, and adds its totals to the shared results file under an
 * exclusive lock.
 */
import { open as openFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '@luaipc/channel';
import { lock, unlock } from '@luaipc/filelock';
import { open as mapFile, pagesize } from '@luaipc/mmap';
import { open as openSemaphore } from '@luaipc/sem';
import { attach } from '@luaipc/shm';
import { countsMessage, type Job, Rec, record, State } from './layout.js';

const WORD = /[a-z']+/g;

/** Milliseconds since the epoch, with fractions: comparable between processes. */
const now = () => performance.timeOrigin + performance.now();

/** Adds the words of `line` (lower-cased runs of letters and apostrophes) to `counts`. */
function countWords(line: string, counts: Map<string, number>): number {
  const words = line.toLowerCase().match(WORD);
  if (words === null) return 0;
  for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  return words.length;
}

async function main(job: Job): Promise<void> {
  const control = attach(job.names.control, { encoding: 'buffer' });
  const rec = record(control.buffer, job.task);
  rec[Rec.pid] = process.pid;
  rec[Rec.bytesTotal] = job.end - job.start;
  rec[Rec.state] = State.waiting;

  const slots = openSemaphore(job.names.slots);
  await slots.dec(); // waits on a thread of the addon: this process stays responsive
  try {
    rec[Rec.state] = State.counting;
    const from = now();
    const started = performance.now();
    // Offsets of a mapping are whole pages: map from the page the range starts in.
    const base = job.start - (job.start % pagesize);
    const input = mapFile(job.input, 'r', base, job.end - base);
    input.seek('set', job.start - base);
    const counts = new Map<string, number>();
    let lines = 0;
    let words = 0;
    let done = 0;
    let nextPause = 256 * 1024;
    for (const line of input.lines()) {
      words += countWords(line, counts);
      lines++;
      done += line.length + 1; // bytes for ASCII text; progress only
      if ((lines & 1023) === 0) rec[Rec.bytesDone] = done;
      if (done >= nextPause) {
        nextPause += 256 * 1024;
        if (job.fail && done * 2 >= job.end - job.start) {
          throw new Error(`task ${job.task + 1}: failing halfway, as asked (--fail-task)`);
        }
        if (job.throttleMs > 0) await sleep(job.throttleMs);
      }
    }
    input.close();
    rec[Rec.bytesDone] = job.end - job.start;
    rec[Rec.countMs] = performance.now() - started;
    rec[Rec.state] = State.reporting;

    // The partial counts, as one message (it waits for room, should the ring be full).
    const message = countsMessage(job.task, counts);
    const results = connect(job.names.results);
    try {
      if (Buffer.byteLength(message) > results.maxMessage) {
        throw new Error(
          `task ${job.task + 1}: partial counts take ${Buffer.byteLength(message)} bytes, a message at most ${results.maxMessage} (raise 'slot' in wordcount.conf)`,
        );
      }
      await results.send(message);
    } finally {
      results.close();
    }
    rec[Rec.lines] = lines;
    rec[Rec.words] = words;

    await addToResultsFile(job, lines, words, from);
    rec[Rec.state] = State.done;
  } finally {
    slots.inc();
    slots.close();
    control.close();
  }
}

/**
 * Adds this task's line (`slot=` the time it held its slot: counting and reporting, in ms
 * since the epoch) and its totals. Read, add, write back: without the lock two workers finishing together would both read the
 * same total and one addition would be lost.
 */
async function addToResultsFile(job: Job, lines: number, words: number, from: number) {
  const file = await openFile(job.resultsFile, 'r+');
  try {
    await lock(file, 'w');
    const text = (await file.readFile('utf8')).trimEnd();
    const total = /^total tasks=(\d+) lines=(\d+) words=(\d+) bytes=(\d+)$/m.exec(text);
    if (total === null) throw new Error(`${job.resultsFile}: no total line`);
    const [tasks, l, w, b] = total.slice(1).map(Number) as [number, number, number, number];
    const updated = text.replace(
      total[0],
      `total tasks=${tasks + 1} lines=${l + lines} words=${w + words} bytes=${b + job.end - job.start}`,
    );
    const mine = `task ${job.task + 1} pid=${process.pid} lines=${lines} words=${words} bytes=${job.end - job.start} slot=${from.toFixed(3)}-${now().toFixed(3)}`;
    await file.truncate(0);
    await file.write(`${updated}\n${mine}\n`, 0);
    unlock(file);
  } finally {
    await file.close(); // closing also drops the lock, should anything above have thrown
  }
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
main(job).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
