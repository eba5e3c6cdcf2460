/**
 * The input: English-looking prose whose word frequencies follow Zipf's law, generated once per
 * size and seed and cached in the OS temp dir (written to a temporary name, renamed when whole).
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

const COMMON = (
  'the of and to a in is it you that he was for on are with as his they be at one have this ' +
  'from or had by hot word but what some we can out other were all there when up use your how ' +
  'said an each she which do their time if will way about many then them write would like so ' +
  'these her long make thing see him two has look more day could go come did number sound no ' +
  "most people my over know water than call first who may down side been now find don't it's"
).split(' ');
const ONSETS = [
  'b',
  'c',
  'd',
  'f',
  'g',
  'h',
  'l',
  'm',
  'n',
  'p',
  'r',
  's',
  't',
  'v',
  'w',
  'st',
  'tr',
  'pl',
];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'ea', 'ou'];
const CODAS = ['', 'n', 'r', 's', 't', 'nd', 'st', 'ck'];

/** `size` words: the common ones first, then made-up ones of two or three syllables. */
function vocabulary(size: number, next: () => number): string[] {
  const words = new Set(COMMON);
  const pick = (list: string[]) => list[Math.floor(next() * list.length)] as string;
  while (words.size < size) {
    let w = '';
    const syllables = 2 + Math.floor(next() * 2);
    for (let i = 0; i < syllables; i++) w += pick(ONSETS) + pick(VOWELS);
    words.add(w + pick(CODAS));
  }
  return [...words];
}

/** xorshift32: deterministic for a seed, on every platform. */
function generator(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

export interface Input {
  path: string;
  bytes: number;
  /** Whether this run generated it (else it came from the cache). */
  generated: boolean;
}

/**
 * The cached input of `sizeMiB` MiB for `seed` in `dir`, generated first if needed. `track`
 * is told the temporary file while it exists, so an interrupted run removes it.
 */
export async function ensureInput(
  dir: string,
  sizeMiB: number,
  seed: number,
  track: (tmp: string | undefined) => void,
  progress: (done: number, total: number) => void,
): Promise<Input> {
  const total = Math.round(sizeMiB * 2 ** 20);
  const path = join(dir, `words-v2-${total}-${seed}.txt`);
  if (existsSync(path)) return { path, bytes: statSync(path).size, generated: false };
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  track(tmp);
  const next = generator(seed);
  const words = vocabulary(4000, next);
  // Zipf's law, by table: the word of rank r comes with probability proportional to 1/r.
  const zipf = new Uint16Array(1 << 20);
  for (let k = 0; k < zipf.length; k++) {
    zipf[k] = Math.floor((words.length + 1) ** ((k + 0.5) / zipf.length)) - 1;
  }
  const plain = words.map((w) => Buffer.from(w));
  const capital = words.map((w) => Buffer.from(w[0]?.toUpperCase() + w.slice(1)));
  const chunk = Buffer.alloc((1 << 20) + 256);
  const fd = openSync(tmp, 'w', 0o644);
  try {
    let written = 0;
    let sentenceStart = true;
    while (written < total) {
      // Lines of about 70 bytes, built in a 1 MiB buffer.
      let at = 0;
      while (at < 1 << 20 && written + at < total) {
        const lineStart = at;
        while (at - lineStart < 64) {
          if (at > lineStart) chunk[at++] = 0x20;
          const k = zipf[(next() * zipf.length) | 0] as number;
          at += ((sentenceStart ? capital : plain)[k] as Buffer).copy(chunk, at);
          const r = next();
          sentenceStart = r < 0.08;
          if (sentenceStart) chunk[at++] = 0x2e;
          else if (r < 0.14) chunk[at++] = 0x2c;
        }
        chunk[at++] = 0x0a;
      }
      writeSync(fd, chunk, 0, at);
      written += at;
      progress(Math.min(written, total), total);
      await yieldToEventLoop(); // lets Ctrl-C and the progress display in
    }
  } catch (error) {
    closeSync(fd); // the temporary file itself goes with the rest of the run (see `track`)
    throw error;
  }
  closeSync(fd);
  renameSync(tmp, path);
  track(undefined);
  return { path, bytes: statSync(path).size, generated: true };
}
