/**
 * Progress on screen: cli-progress bars (one per task and a total) on a terminal, plain lines
 * otherwise (a pipe, a CI log), so the output stays readable wherever it goes.
 */
import cliProgress from 'cli-progress';

export interface Bar {
  label: string;
  /** Bytes. */
  total: number;
}

export interface Display {
  /** A new set of bars: `bars[i]` for task i, and a total. */
  begin(title: string, bars: Bar[]): void;
  /** Task i has done `done` bytes and is in `state`. */
  update(i: number, done: number, state: string): void;
  /** A line of text above the bars. */
  log(line: string): void;
  /** Removes the bars' machinery (the cursor comes back); idempotent. */
  end(): void;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function terminal(stream: NodeJS.WriteStream): Display {
  let multibar: cliProgress.MultiBar | undefined;
  let bars: cliProgress.SingleBar[] = [];
  let totalBar: cliProgress.SingleBar | undefined;
  let done: number[] = [];
  let sizes: Bar[] = [];
  const end = () => {
    multibar?.stop();
    multibar = undefined;
  };
  return {
    begin(title, list) {
      end();
      stream.write(`${title}\n`);
      multibar = new cliProgress.MultiBar(
        {
          stream,
          format: ' {label} {bar} {percentage}% {amount} {state}',
          barCompleteChar: '\u2588',
          barIncompleteChar: '\u2591',
          barsize: 30,
          hideCursor: true,
          clearOnComplete: false,
          autopadding: true,
          fps: 10,
        },
        cliProgress.Presets.shades_classic,
      );
      sizes = list;
      done = list.map(() => 0);
      const all = list.reduce((n, b) => n + b.total, 0);
      const width = Math.max(5, ...list.map((b) => b.label.length));
      totalBar = multibar.create(all, 0, {
        label: 'total'.padEnd(width),
        amount: `${mib(0)} / ${mib(all)}`.padEnd(22),
        state: '',
      });
      bars = list.map((b) =>
        (multibar as cliProgress.MultiBar).create(b.total, 0, {
          label: b.label.padEnd(width),
          amount: `${mib(0)} / ${mib(b.total)}`.padEnd(22),
          state: 'starting',
        }),
      );
    },
    update(i, value, state) {
      const bar = bars[i];
      if (bar === undefined || totalBar === undefined) return;
      done[i] = value;
      bar.update(value, {
        amount: `${mib(value)} / ${mib(sizes[i]?.total ?? 0)}`.padEnd(22),
        state,
      });
      const sum = done.reduce((a, b) => a + b, 0);
      const all = sizes.reduce((n, b) => n + b.total, 0);
      totalBar.update(sum, { amount: `${mib(sum)} / ${mib(all)}`.padEnd(22) });
    },
    log(line) {
      if (multibar) multibar.log(`${line}\n`);
      else stream.write(`${line}\n`);
    },
    end,
  };
}

/** Plain lines: each task's changes of state, and the total at every quarter. */
function plain(stream: NodeJS.WritableStream): Display {
  let states: string[] = [];
  let done: number[] = [];
  let sizes: Bar[] = [];
  let quarter = 0;
  return {
    begin(title, list) {
      stream.write(`${title}\n`);
      sizes = list;
      states = list.map(() => 'starting');
      done = list.map(() => 0);
      quarter = 0;
    },
    update(i, value, state) {
      done[i] = value;
      if (states[i] !== state) {
        states[i] = state;
        if (sizes.length > 1) stream.write(`  ${sizes[i]?.label}: ${state}\n`);
      }
      const sum = done.reduce((a, b) => a + b, 0);
      const all = sizes.reduce((n, b) => n + b.total, 0);
      const q = all > 0 ? Math.floor((sum / all) * 4) : 4;
      if (q > quarter) {
        quarter = q;
        stream.write(`  total: ${q * 25}% (${mib(sum)} of ${mib(all)})\n`);
      }
    },
    log(line) {
      stream.write(`${line}\n`);
    },
    end() {},
  };
}

export function createDisplay(forcePlain: boolean): Display {
  return process.stdout.isTTY && !forcePlain ? terminal(process.stdout) : plain(process.stdout);
}
