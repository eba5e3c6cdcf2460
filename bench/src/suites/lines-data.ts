import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const WORDS = (
  'the of and request worker queue cache miss hit user order item stock price total ' +
  'alpha beta gamma delta shared memory semaphore mapped file lock process signal ' +
  'timeout retry ok error warn info debug started stopped connected closed'
).split(' ');
const LEVELS = ['INFO ', 'DEBUG', 'WARN ', 'ERROR'];
/** The same vocabulary in Russian: every letter is a 2-byte UTF-8 character. */
const CYRILLIC_WORDS = (
  'и в не на запрос обработчик очередь кэш промах попадание пользователь заказ товар склад ' +
  'цена итог альфа бета гамма дельта общая память семафор файл блокировка процесс сигнал ' +
  'таймаут повтор готово ошибка внимание сведения отладка запущен остановлен подключён закрыт'
).split(' ');
const CYRILLIC_LEVELS = ['ИНФО ', 'ОТЛАД', 'ВНИМ ', 'ОШИБК'];
/** Words of the mixed text's wide lines: each has one 2-byte character. */
const ACCENTED = ['café', 'naïve', 'résumé', 'façade', 'señor', 'über', 'déjà', 'Zürich'];

/**
 * The texts the line suites read, all of the same size and line lengths:
 * - `ascii`: log lines, CSV rows and prose in ASCII;
 * - `mixed`: the same, with one line in eight carrying one 2-byte character (an accented word);
 * - `cyrillic`: the same kinds of lines in Russian: letters are 2-byte characters throughout,
 *   digits and punctuation ASCII.
 */
export type TextKind = 'ascii' | 'mixed' | 'cyrillic';
export const TEXT_KINDS: readonly TextKind[] = ['ascii', 'mixed', 'cyrillic'];

/** How a suite's heading and prose name each text. */
export const TEXT_NAMES: Record<TextKind, string> = {
  ascii: 'ASCII',
  mixed: 'mixed (one line in eight has a 2-byte character)',
  cyrillic: 'Cyrillic (2-byte letters throughout)',
};

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
 * `bytes` of text of the given kind in lines of 1 to ~160 bytes (about 80 on average, a few
 * empty): log lines, CSV rows and prose, ending with '\n'.
 */
export function generateText(bytes: number, kind: TextKind = 'ascii'): Buffer {
  const out = Buffer.alloc(bytes);
  const random = rng(0x5eed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const cyrillic = kind === 'cyrillic';
  const words = cyrillic ? CYRILLIC_WORDS : WORDS;
  const levels = cyrillic ? CYRILLIC_LEVELS : LEVELS;
  let off = 0;
  let n = 0;
  while (off < bytes) {
    n++;
    let line: string;
    const shape = random();
    if (shape < 0.01) {
      line = '';
    } else if (shape < 0.5) {
      const ms = (n * 37) % 1000;
      line =
        `2026-11-26T14:${String((n >> 10) % 60).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}` +
        `.${String(ms).padStart(3, '0')}Z ${pick(levels)} worker-${n % 8} ${pick(words)} ` +
        `${pick(words)} /api/${pick(words)}/${Math.floor(random() * 1e6)} took ${(random() * 100).toFixed(2)}ms`;
    } else if (shape < 0.75) {
      const cells: string[] = [String(n)];
      const count = 4 + Math.floor(random() * 12);
      for (let i = 0; i < count; i++) {
        cells.push(random() < 0.5 ? (random() * 2000 - 1000).toFixed(3) : pick(words));
      }
      line = cells.join(',');
    } else {
      const target = 10 + Math.floor(random() * 150);
      const prose: string[] = [];
      let len = 0;
      while (len < target) {
        const w = random() < 0.1 ? pick(words).toUpperCase() : pick(words);
        prose.push(w);
        len += Buffer.byteLength(w) + 1;
      }
      line = `${prose.join(' ')}.`;
    }
    if (kind === 'mixed' && n % 8 === 0 && line !== '') line = `${pick(ACCENTED)} ${line}`;
    off = put(out, off, line);
    out[off++] = 10;
  }
  return out;
}

/**
 * Writes `line` as UTF-8 at `off`, leaving room for its newline (a line cut at the end of the
 * text is cut at a character boundary, the rest padded with spaces); returns the new offset.
 */
function put(out: Buffer, off: number, line: string): number {
  const room = out.length - off - 1;
  const encoded = Buffer.from(line, 'utf8');
  if (encoded.length <= room) return off + encoded.copy(out, off);
  let cut = room;
  while (cut > 0 && ((encoded[cut] as number) & 0xc0) === 0x80) cut--;
  encoded.copy(out, off, 0, cut);
  out.fill(0x20, off + cut, off + room);
  return off + room;
}

/**
 * Writes the text once per size and kind into the temp dir (cases read it back) and returns its
 * path.
 */
export function ensureInput(bytes: number, kind: TextKind = 'ascii'): string {
  const dir = join(tmpdir(), 'luaipc-bench');
  mkdirSync(dir, { recursive: true });
  const file = join(
    dir,
    kind === 'ascii' ? `lines-v2-${bytes}.txt` : `lines-${kind}-v1-${bytes}.txt`,
  );
  if (existsSync(file) && statSync(file).size === bytes) return file;
  const tmp = `${file}.${process.pid}`;
  writeFileSync(tmp, generateText(bytes, kind));
  renameSync(tmp, file);
  return file;
}
