import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const WORDS = (
  'the of and request worker queue cache miss hit user order item stock price total ' +
  'alpha beta gamma delta shared memory semaphore mapped file lock process signal ' +
  'timeout retry ok error warn info debug started stopped connected closed'
).split(' ');
const LEVELS = ['INFO ', 'DEBUG', 'WARN ', 'ERROR'];

/** xorshift32: the same text on every machine and run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

/**
 * `bytes` of ASCII text in lines of 1 to ~160 bytes (about 80 on average, a few empty): log
 * lines, CSV rows and prose, ending with '\n'.
 */
export function generateText(bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  const random = rng(0x5eed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  let off = 0;
  let n = 0;
  while (off < bytes) {
    n++;
    let line: string;
    const kind = random();
    if (kind < 0.01) {
      line = '';
    } else if (kind < 0.5) {
      const ms = (n * 37) % 1000;
      line =
        `2026-11-26T14:${String((n >> 10) % 60).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}` +
        `.${String(ms).padStart(3, '0')}Z ${pick(LEVELS)} worker-${n % 8} ${pick(WORDS)} ` +
        `${pick(WORDS)} /api/${pick(WORDS)}/${Math.floor(random() * 1e6)} took ${(random() * 100).toFixed(2)}ms`;
    } else if (kind < 0.75) {
      const cells: string[] = [String(n)];
      const count = 4 + Math.floor(random() * 12);
      for (let i = 0; i < count; i++) {
        cells.push(random() < 0.5 ? (random() * 2000 - 1000).toFixed(3) : pick(WORDS));
      }
      line = cells.join(',');
    } else {
      const target = 10 + Math.floor(random() * 150);
      const words: string[] = [];
      let len = 0;
      while (len < target) {
        const w = random() < 0.1 ? pick(WORDS).toUpperCase() : pick(WORDS);
        words.push(w);
        len += w.length + 1;
      }
      line = `${words.join(' ')}.`;
    }
    const room = bytes - off - 1;
    if (line.length > room) line = line.slice(0, room);
    off += out.write(line, off, 'latin1');
    out[off++] = 10;
  }
  return out;
}

/** Writes the text once per size into the temp dir (cases read it back) and returns its path. */
export function ensureInput(bytes: number): string {
  const dir = join(tmpdir(), 'luaipc-bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `lines-v2-${bytes}.txt`);
  if (existsSync(file) && statSync(file).size === bytes) return file;
  const tmp = `${file}.${process.pid}`;
  writeFileSync(tmp, generateText(bytes));
  renameSync(tmp, file);
  return file;
}
