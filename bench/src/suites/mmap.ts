import { execFileSync } from 'node:child_process';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { compileC } from '../harness/cc.js';
import { cpuSecondsSince, secondsSince } from '../harness/stats.js';
import { defineSuite, type Metrics } from '../types.js';
import { ensureInput, TEXT_KINDS, TEXT_NAMES, type TextKind } from './lines-data.js';

export interface MmapParams {
  /** The text file every case reads from disk (the page cache, once generated). */
  input: string;
  /** The compiled bench/c/mmap_lines.c. */
  mmapLines: string;
}

interface Count {
  lines: number;
  chars: number;
}

/** This process's peak RSS so far, in MiB (the C case reports its own). */
function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Times `iterate` from before the file is opened to after its last line. */
async function timed(
  params: MmapParams,
  iterate: (input: string) => Count | Promise<Count>,
): Promise<Metrics> {
  const bytes = statSync(params.input).size;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const count = await iterate(params.input);
  const seconds = secondsSince(start);
  return {
    seconds,
    lines: count.lines,
    chars: count.chars,
    linesPerSec: count.lines / seconds,
    linesPerCpuSec: count.lines / cpuSecondsSince(cpu),
    mbPerSec: bytes / 1e6 / seconds,
    peakRssMiB: peakRssMiB(),
  };
}

/**
 * The suite over one text: `mmap` (ASCII), `mmap-mixed`, `mmap-cyrillic` (see
 * {@link TextKind}); `pnpm bench mmap` runs all three.
 */
const mmapSuite = (kind: TextKind) =>
  defineSuite<MmapParams>({
    name: kind === 'ascii' ? 'mmap' : `mmap-${kind}`,
    title: `visit every line of a 256 MiB file: ${TEXT_NAMES[kind]}`,
    reps: 7,
    about:
      `A 256 MiB (quick runs: 16 MiB) ${TEXT_NAMES[kind]} text of ~80-byte lines (the \`lines\` suite generator), ` +
      'cached in the page cache, is read from the file and every line is visited as a string ' +
      '(C: located, not decoded). The clock runs from before the file is opened to after its last ' +
      'line. Peak RSS is the whole process, file pages mapped into it included.',
    columns: [
      { key: 'linesPerSec', label: 'lines/s', better: 'higher', format: 'si' },
      { key: 'linesPerCpuSec', label: 'lines/CPU-s', better: 'higher', format: 'si' },
      { key: 'mbPerSec', label: 'MB/s', better: 'higher', format: 'fixed', digits: 0 },
      { key: 'peakRssMiB', label: 'peak RSS MiB', better: 'lower', format: 'fixed', digits: 0 },
    ],
    ratios: [
      { metric: 'linesPerSec', against: 'readline' },
      { metric: 'linesPerSec', against: 'split' },
      { metric: 'linesPerSec', against: 'c-memchr' },
      { metric: 'linesPerCpuSec', against: 'readline' },
      { metric: 'linesPerCpuSec', against: 'c-memchr' },
      { metric: 'peakRssMiB', against: 'readline' },
      { metric: 'peakRssMiB', against: 'split' },
    ],
    targets: [
      {
        case: 'mmap',
        against: 'readline',
        metric: 'linesPerSec',
        op: '>=',
        value: 3,
        label: 'mmap lines() >= 3x readline over fs.createReadStream (lines/s)',
      },
      {
        case: 'mmap',
        against: 'readline',
        metric: 'linesPerCpuSec',
        op: '>=',
        value: 3,
        label: 'the same in lines per CPU second (steadier on a busy machine)',
      },
      {
        case: 'mmap',
        against: 'split',
        metric: 'linesPerSec',
        op: '>=',
        value: 1,
        label: "mmap lines() >= readFileSync + split('\\n') (lines/s)",
      },
      {
        case: 'mmap',
        against: 'split',
        metric: 'peakRssMiB',
        op: '<',
        value: 1,
        label: "mmap lines() peak RSS < readFileSync + split('\\n')",
      },
      {
        case: 'mmap',
        against: 'readline',
        metric: 'peakRssMiB',
        op: '<=',
        value: 2,
        label: 'mmap lines() peak RSS <= 2x readline over fs.createReadStream',
      },
      ...(kind === 'ascii'
        ? [
            {
              case: 'mmap',
              against: 'c-memchr',
              metric: 'linesPerSec',
              op: '>=' as const,
              value: 0.5,
              label: 'mmap lines() >= 0.5x the C mmap + memchr ceiling (lines/s)',
            },
            {
              case: 'mmap',
              against: 'c-memchr',
              metric: 'linesPerCpuSec',
              op: '>=' as const,
              value: 0.5,
              label: 'the same in lines per CPU second',
            },
          ]
        : []),
    ],
    prepare({ quick }) {
      return {
        input: ensureInput(quick ? 16 * 2 ** 20 : 256 * 2 ** 20, kind),
        mmapLines: compileC('mmap_lines'),
      };
    },
    cases: [
      {
        id: 'mmap',
        label: '@luaipc/mmap open(file).lines()',
        async run({ params }) {
          const { open } = await import('@luaipc/mmap');
          return timed(params, (input) => {
            const h = open(input);
            let lines = 0;
            let chars = 0;
            for (const line of h.lines()) {
              lines++;
              chars += line.length;
            }
            h.close();
            return { lines, chars };
          });
        },
      },
      {
        id: 'readline',
        label: 'readline over fs.createReadStream',
        run({ params }) {
          return timed(params, async (input) => {
            const rl = createInterface({
              input: createReadStream(input),
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
        id: 'split',
        label: "readFileSync + toString().split('\\n')",
        run({ params }) {
          return timed(params, (input) => {
            const parts = readFileSync(input).toString().split('\n');
            // A final '\n' leaves an empty last element that is not a line.
            if (parts[parts.length - 1] === '') parts.pop();
            let chars = 0;
            for (const line of parts) chars += line.length;
            return { lines: parts.length, chars };
          });
        },
      },
      {
        id: 'c-memchr',
        label: 'C mmap + memchr (no strings)',
        run({ params }) {
          const out = execFileSync(params.mmapLines, [params.input], { encoding: 'utf8' });
          const r = JSON.parse(out) as Count & {
            seconds: number;
            cpuSeconds: number;
            peakRssMiB: number;
          };
          const bytes = statSync(params.input).size;
          return {
            seconds: r.seconds,
            lines: r.lines,
            chars: r.chars,
            linesPerSec: r.lines / r.seconds,
            linesPerCpuSec: r.lines / r.cpuSeconds,
            mbPerSec: bytes / 1e6 / r.seconds,
            peakRssMiB: r.peakRssMiB,
          };
        },
      },
    ],
  });

export const mmapSuites = TEXT_KINDS.map(mmapSuite);
