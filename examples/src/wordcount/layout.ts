/**
 * What the coordinator and its workers agree on: the names of the shared objects of one phase,
 * the record each worker keeps in the control segment, the message it sends with its partial
 * counts, and the job a worker is given.
 */

/** The shared objects of one phase. Short names: 30 bytes is what every OS accepts. */
export interface Names {
  /** shm: one {@link Rec} record per task (state, progress, totals). */
  control: string;
  /** channel: each worker sends its partial counts as one message (see {@link countsMessage}). */
  results: string;
  /** sem: how many workers may count at once. */
  slots: string;
}

export function phaseNames(runId: string): Names {
  return { control: `${runId}-ctl`, results: `${runId}-res`, slots: `${runId}-slots` };
}

/** The fields of a task's record in the control segment, each a float64. */
export const Rec = {
  state: 0,
  pid: 1,
  bytesDone: 2,
  bytesTotal: 3,
  lines: 4,
  words: 5,
  countMs: 6,
} as const;
export const REC_FIELDS = 7;
export const REC_BYTES = REC_FIELDS * 8;

export const State = { spawned: 0, waiting: 1, counting: 2, reporting: 3, done: 4 } as const;
export const STATE_NAMES = ['starting', 'waiting for a slot', 'counting', 'reporting', 'done'];

/** The record of task `task` as a Float64Array over the control segment's memory. */
export function record(memory: Buffer, task: number): Float64Array {
  return new Float64Array(memory.buffer, memory.byteOffset + task * REC_BYTES, REC_FIELDS);
}

/** What a worker process is started with (its one argument, as JSON). */
export interface Job {
  task: number;
  names: Names;
  input: string;
  /** The byte range of the input this task counts: whole lines. */
  start: number;
  end: number;
  /** The shared results file (a running total plus one line per task), under a file lock. */
  resultsFile: string;
  /** Test hooks: milliseconds to sleep per 256 KiB counted, a task that fails halfway. */
  throttleMs: number;
  fail: boolean;
}

/**
 * A worker's partial counts as the message it sends: its task number on the first line, then
 * "count word" lines (the coordinator reads them back with Lua's 'n' and 'l' formats).
 */
export function countsMessage(task: number, counts: Map<string, number>): string {
  let text = `${task}\n`;
  for (const [w, n] of counts) text += `${n} ${w}\n`;
  return text;
}
