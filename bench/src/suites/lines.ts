import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { cpuSecondsSince, secondsSince } from '../harness/stats.js';
import { defineSuite, type Metrics } from '../types.js';
import { ensureInput, TEXT_KINDS, TEXT_NAMES, type TextKind } from './lines-data.js';

export interface LinesParams {
  /** The text file every case loads into memory before the clock starts. */
  input: string;
}

/** Same chunk size as `fs.createReadStream`, so readline sees what it sees reading a file. */
const CHUNK = 64 * 1024;

interface Count {
  lines: number;
  chars: number;
}

function load(params: LinesParams): Buffer {
  return readFileSync(params.input);
}

function metrics(
  bytes: number,
  seconds: number,
  cpuSeconds: number,
  count: Count,
  startRssMiB: number,
): Metrics {
  return {
    seconds,
    lines: count.lines,
    chars: count.chars,
    linesPerSec: count.lines / seconds,
    linesPerCpuSec: count.lines / cpuSeconds,
    mbPerSec: bytes / 1e6 / seconds,
    startRssMiB,
  };
}

/** Each case counts lines and their characters (so no line can be optimized away). */
async function timed(
  params: LinesParams,
  iterate: (buf: Buffer) => Count | Promise<Count>,
): Promise<Metrics> {
  const buf = load(params);
  const startRssMiB = process.memoryUsage().rss / 2 ** 20;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const count = await iterate(buf);
  const seconds = secondsSince(start);
  return metrics(buf.length, seconds, cpuSecondsSince(cpu), count, startRssMiB);
}

/**
 * The suite over one text: `lines` (ASCII), `lines-mixed`, `lines-cyrillic` (see
 * {@link TextKind}); `pnpm bench lines` runs all three.
 */
const linesSuite = (kind: TextKind) =>
  defineSuite<LinesParams>({
    name: kind === 'ascii' ? 'lines' : `lines-${kind}`,
    title: `iterate every line of a 64 MiB text held in memory: ${TEXT_NAMES[kind]}`,
    // One pass takes ~0.2 s, so more repetitions cost little and steady the medians.
    reps: 9,
    about:
      `A 64 MiB (quick runs: 8 MiB) ${TEXT_NAMES[kind]} text of ~80-byte lines (log lines, CSV rows, prose) is read into a Buffer, ` +
      'then every line is visited as a string. Peak RSS is the whole process (the 64 MiB input ' +
      'included; "RSS at start" is after loading it).',
    columns: [
      { key: 'linesPerSec', label: 'lines/s', better: 'higher', format: 'si' },
      { key: 'linesPerCpuSec', label: 'lines/CPU-s', better: 'higher', format: 'si' },
      { key: 'mbPerSec', label: 'MB/s', better: 'higher', format: 'fixed', digits: 0 },
      { key: 'rssMiB', label: 'peak RSS MiB', better: 'lower', format: 'fixed', digits: 0 },
      {
        key: 'startRssMiB',
        label: 'RSS at start MiB',
        better: 'lower',
        format: 'fixed',
        digits: 0,
      },
    ],
    ratios: [
      { metric: 'linesPerSec', against: 'readline' },
      { metric: 'linesPerSec', against: 'readline64k' },
      { metric: 'linesPerSec', against: 'split' },
      { metric: 'linesPerCpuSec', against: 'readline' },
      { metric: 'rssMiB', against: 'split' },
    ],
    targets: [
      {
        case: 'strfile',
        against: 'readline',
        metric: 'linesPerSec',
        op: '>=',
        value: 3,
        label: 'lines() >= 3x readline over Readable.from(buf) (lines/s)',
      },
      {
        case: 'strfile',
        against: 'readline',
        metric: 'linesPerCpuSec',
        op: '>=',
        value: 3,
        label: 'the same in lines per CPU second (steadier on a busy machine)',
      },
      {
        case: 'strfile',
        against: 'readline64k',
        metric: 'linesPerSec',
        op: '>=',
        value: 3,
        label: 'stricter: lines() >= 3x readline over 64 KiB chunks (lines/s)',
      },
      {
        case: 'strfile',
        against: 'split',
        metric: 'linesPerSec',
        op: '>=',
        value: 1,
        label: "lines() >= split('\\n') (lines/s)",
      },
      {
        case: 'strfile',
        against: 'split',
        metric: 'rssMiB',
        op: '<',
        value: 1,
        label: "lines() peak RSS < split('\\n')",
      },
    ],
    prepare({ quick }) {
      return { input: ensureInput(quick ? 8 * 2 ** 20 : 64 * 2 ** 20, kind) };
    },
    cases: [
      {
        id: 'strfile',
        label: '@luaipc/strfile lines()',
        async run({ params }) {
          const { open } = await import('@luaipc/strfile');
          return timed(params, (buf) => {
            let lines = 0;
            let chars = 0;
            for (const line of open(buf).lines()) {
              lines++;
              chars += line.length;
            }
            return { lines, chars };
          });
        },
      },
      {
        // What the issue measured against: the bytes as one Readable (Readable.from(buf) emits the
        // whole Buffer as one chunk) and the documented `for await` loop.
        id: 'readline',
        label: 'readline, Readable.from(buf)',
        run({ params }) {
          return timed(params, async (buf) => {
            const rl = createInterface({
              input: Readable.from(buf),
              crlfDelay: Number.POSITIVE_INFINITY,
            });
            let lines = 0;
            let chars = 0;
            for await (const line of rl) {
              lines++;
              chars += line.length;
            }
            return { lines, chars };
          });
        },
      },
      {
        // readline at its fastest: 64 KiB chunks as fs.createReadStream delivers them, and 'line'
        // events instead of the async iterator.
        id: 'readline64k',
        label: "readline, 64 KiB chunks, 'line'",
        run({ params }) {
          return timed(
            params,
            (buf) =>
              new Promise<Count>((resolve, reject) => {
                const input = Readable.from(chunks(buf));
                input.on('error', reject);
                const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
                let lines = 0;
                let chars = 0;
                rl.on('line', (line) => {
                  lines++;
                  chars += line.length;
                });
                rl.on('close', () => resolve({ lines, chars }));
              }),
          );
        },
      },
      {
        id: 'split',
        label: "toString().split('\\n')",
        run({ params }) {
          return timed(params, (buf) => {
            const parts = buf.toString().split('\n');
            // A final '\n' leaves an empty last element that is not a line.
            if (parts[parts.length - 1] === '') parts.pop();
            let chars = 0;
            for (const line of parts) chars += line.length;
            return { lines: parts.length, chars };
          });
        },
      },
    ],
  });

export const linesSuites = TEXT_KINDS.map(linesSuite);

function* chunks(buf: Buffer): Generator<Buffer> {
  for (let off = 0; off < buf.length; off += CHUNK) yield buf.subarray(off, off + CHUNK);
}
