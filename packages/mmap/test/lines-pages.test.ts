import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { open } from '../src/index.js';
import { fixture, parseOk, runNode, tempFile } from './helpers.js';

const WORDS = {
  ascii: ['the', 'queue', 'worker', 'ERROR', '42', 'took', '3.14ms', 'a,b,c'],
  mixed: ['café', 'naïve', 'Zürich'],
  cyrillic: ['запрос', 'очередь', 'ошибка', 'готово', 'семафор', '7', '—'],
};
type Kind = keyof typeof WORDS;

/** `bytes` or a little more of lines of words: ASCII, one line in eight with an accent, or Cyrillic. */
function text(kind: Kind, bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let n = 0; size < bytes; n++) {
    const list = kind === 'mixed' && n % 8 !== 0 ? WORDS.ascii : WORDS[kind];
    const words: string[] = [];
    for (let i = 0; i < (n * 7) % 23; i++) words.push(list[(n + i * 3) % list.length] as string);
    const line = words.join(' ');
    lines.push(line);
    size += Buffer.byteLength(line) + 1;
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

const MiB = 1024 * 1024;

describe('lines() over a mapping, on ASCII, mixed and Cyrillic text', () => {
  it("gives every line as the file's text has it, in 'r' and 'rw' mappings", () => {
    for (const kind of ['ascii', 'mixed', 'cyrillic'] as const) {
      const bytes = text(kind, 12 * MiB);
      const expected = bytes.toString().split('\n');
      expected.pop();
      const file = tempFile(bytes);
      for (const mode of ['r', 'rw'] as const) {
        const h = open(file, mode);
        const lines = [...h.lines()];
        expect(lines.length, `${kind} ${mode}`).toBe(expected.length);
        expect(lines, `${kind} ${mode}`).toEqual(expected);
        expect(h.seek('cur')).toBe(bytes.length);
        h.close();
      }
    }
  });
});

describe('pages a lines() pass has left behind', () => {
  const marks = [0, 5 * MiB + 3, 13 * MiB + 100, 19 * MiB];

  it("are never discarded where they hold what was written through an 'r' mapping's buffer", () => {
    const bytes = text('ascii', 20 * MiB);
    const file = tempFile(bytes);
    const h = open(file, 'r');
    const b = h.buffer;
    for (const [i, at] of marks.entries()) b.write(`MARK-${i}`, at, 'latin1');
    let count = 0;
    for (const _ of h.lines()) count++;
    expect(count).toBeGreaterThan(100_000);
    for (const [i, at] of marks.entries()) {
      expect(b.toString('latin1', at, at + 6)).toBe(`MARK-${i}`);
      h.seek('set', at);
      expect(h.read(6)).toBe(`MARK-${i}`);
    }
    h.close();
    // Private: the file never saw them.
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });

  it("keep what was written through an 'rw' mapping's buffer: it reaches the file", () => {
    const bytes = text('cyrillic', 20 * MiB);
    const file = tempFile(bytes);
    const h = open(file, 'rw');
    const b = h.buffer;
    for (const [i, at] of marks.entries()) b.write(`MARK-${i}`, at, 'latin1');
    for (const _ of h.lines()) {
      // every line visited
    }
    h.flush();
    h.close();
    const after = readFileSync(file);
    for (const [i, at] of marks.entries())
      expect(after.toString('latin1', at, at + 6)).toBe(`MARK-${i}`);
  });

  it.runIf(process.platform === 'linux')(
    'leave the process: a whole-file pass keeps a few MiB of a 96 MiB file resident',
    async () => {
      const file = tempFile(text('mixed', 96 * MiB));
      for (const mode of ['r', 'rw']) {
        const out = parseOk(await runNode(fixture('lines-rss.mjs'), [file, mode]));
        expect(out.lines).toBeGreaterThan(1_000_000);
        // Generous: the pass releases pages every few MiB; all of it resident would be 96.
        expect(out.growthMiB, mode).toBeLessThan(40);
      }
    },
  );
});
