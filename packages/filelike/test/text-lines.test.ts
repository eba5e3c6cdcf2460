/**
 * Line reads decode whole blocks of text at once (strfile, mmap's read-ahead) and, in blocks with
 * multi-byte characters, keep no byte position per line. These tests hold them to the plain
 * per-line reads (a handle that neither reads ahead nor is immutable decodes each line alone) and
 * to lua5.4, on ASCII, mixed and non-Latin text, with the edge cases of UTF-8 (4-byte chars, bad
 * bytes, a real U+FFFD, a BOM, lines longer than a block, no final newline).
 */
import { isUtf8 } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileLike, MappedStore, type MappingProbe, type ReadFormat } from '../src/index.js';

/** xorshift32, so a failure can be rerun. */
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

const ASCII_WORDS = ['the', 'queue', 'worker', 'ERROR', '42', 'took', '3.14ms', 'a,b,c', ''];
const MIXED_WORDS = ['café', 'naïve', 'Zürich'];
const WIDE_WORDS = ['запрос', 'очередь', 'ошибка', '東京', '日本語', '😀', 'ℕ', 'ß', '7'];

type Kind = 'ascii' | 'mixed' | 'wide';

/** About `bytes` of text: lines of words, one in eight with an accent (mixed), or all non-Latin. */
function text(kind: Kind, bytes: number, seed: number): Buffer {
  const pick = rng(seed);
  const lines: string[] = [];
  let size = 0;
  for (let n = 0; size < bytes; n++) {
    const words: string[] = [];
    const count = pick(20);
    for (let i = 0; i < count; i++) {
      const list =
        kind === 'wide' || (kind === 'mixed' && n % 8 === 0 && i === 0)
          ? kind === 'wide'
            ? WIDE_WORDS
            : MIXED_WORDS
          : ASCII_WORDS;
      words.push(list[pick(list.length)] as string);
    }
    const line = words.join(' ');
    lines.push(line);
    size += Buffer.byteLength(line) + 1;
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** The texts: each kind, then each with the awkward parts added. */
function texts(): [string, Buffer][] {
  const out: [string, Buffer][] = [];
  for (const kind of ['ascii', 'mixed', 'wide'] as const) {
    const plain = text(kind, 200_000, kind.length);
    out.push([kind, plain]);
    // A line longer than a 64 KiB block, a BOM, a real U+FFFD, bad bytes (a lone continuation
    // byte, a cut 3-byte char, an encoded surrogate), CRLF, and no newline at the end.
    const long = Buffer.from(`${'x'.repeat(70_000)}é${'y'.repeat(70_000)}\n`);
    const bom = Buffer.from('\uFEFFbom\n');
    const fffd = Buffer.from('real \uFFFD here\n');
    const bad = Buffer.from([0x61, 0x80, 0x62, 0x0a, 0xe2, 0x82, 0x0a, 0xed, 0xa0, 0x80, 0x0a]);
    const crlf = Buffer.from('dos\r\nline\r\n');
    out.push([`${kind}+long`, Buffer.concat([plain, long, plain.subarray(0, 100_000)])]);
    out.push([`${kind}+bom`, Buffer.concat([bom, plain.subarray(0, 200_000)])]);
    out.push([`${kind}+fffd`, Buffer.concat([plain.subarray(0, 150_000), fffd, plain])]);
    out.push([`${kind}+bad`, Buffer.concat([plain.subarray(0, 100_001), bad, crlf, plain])]);
    out.push([`${kind}+no-final-newline`, Buffer.concat([plain, Buffer.from('last é')])]);
  }
  return out;
}

/** Each line's bytes decoded alone: what a line read must give. */
function expectedLines(bytes: Buffer, keepNewline: boolean): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    const nl = bytes.indexOf(10, start);
    const end = nl < 0 ? bytes.length : nl + 1;
    out.push(bytes.toString('utf8', start, keepNewline || nl < 0 ? end : nl));
    start = end;
  }
  return out;
}

const probe: MappingProbe = { epoch: new Uint32Array(1), truncated: () => false };

/** Handles over the bytes the way each package makes them. */
const HANDLES: [string, (bytes: Buffer) => FileLike][] = [
  ['strfile (immutable)', (b) => new FileLike(b, { mode: 'r', immutable: true })],
  [
    'mmap-like (mapped store, read-ahead)',
    (b) => new FileLike(new MappedStore(b, probe, 'f'), { readAhead: true }),
  ],
];

describe('block line reads give what per-line decoding gives', () => {
  const all = texts();

  for (const [name, make] of HANDLES) {
    it(`${name}: lines(), 'l' and 'L' on every text`, () => {
      for (const [label, bytes] of all) {
        const lines = [...make(bytes).lines()];
        expect(lines.length, label).toBe(expectedLines(bytes, false).length);
        expect(lines, label).toEqual(expectedLines(bytes, false));
        const withNewline = [...make(bytes).lines('L')];
        expect(withNewline, label).toEqual(expectedLines(bytes, true));
        // 'L' lines put back together are the file's text, and the position is its end.
        const h = make(bytes);
        let n = 0;
        while (h.read('L') !== null) n++;
        expect(n, label).toBe(withNewline.length);
        expect(h.seek('cur'), label).toBe(bytes.length);
      }
    });

    it(`${name}: line reads mixed with other reads, seeks and positions agree with per-line reads`, () => {
      const pick = rng(0xdecade);
      const formats: ReadFormat[] = ['l', 'L', 'l', 'L', 'l', 1, 7, 0, 'n'];
      for (const [label, bytes] of all) {
        const ours = make(bytes);
        const plain = new FileLike(bytes, { mode: 'r' });
        for (let op = 0; op < 1000; op++) {
          const what = pick(20);
          if (what === 0) {
            const to = pick(bytes.length + 1);
            expect(ours.seek('set', to)).toBe(plain.seek('set', to));
          } else if (what === 1) {
            expect(ours.seek('cur'), `${label} op ${op}`).toBe(plain.seek('cur'));
          } else if (what === 2) {
            // A run of lines, then the position.
            const it = ours.lines();
            const ref = plain.lines();
            for (let i = pick(200); i > 0; i--) expect(it.next()).toEqual(ref.next());
            expect(ours.seek('cur'), `${label} op ${op}`).toBe(plain.seek('cur'));
          } else {
            const f = formats[pick(formats.length)] as ReadFormat;
            expect(ours.read(f), `${label} op ${op} read(${f})`).toEqual(plain.read(f));
          }
        }
        expect(ours.seek('cur'), label).toBe(plain.seek('cur'));
      }
    });
  }
});

describe('line positions against lua5.4', () => {
  const dir = mkdtempSync(join(tmpdir(), 'filelike-text-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("the position after each 'L' line is Lua's, and so is each valid line's length", () => {
    // Lua reads bytes; a line of valid UTF-8 re-encodes to the bytes it came from, so its UTF-8
    // length is Lua's #line (a line with bad bytes, or a cut char, has U+FFFD in their place).
    const script = join(dir, 'lines.lua');
    writeFileSync(
      script,
      "local f = assert(io.open(arg[1], 'rb'))\n" +
        "for l in f:lines('L') do io.write(utf8.len(l) and #l or '?', ' ', f:seek(), '\\n') end\n",
    );
    for (const [label, bytes] of texts()) {
      const file = join(dir, 'text');
      writeFileSync(file, bytes);
      const r = spawnSync('lua5.4', [script, file], { encoding: 'utf8', maxBuffer: 1 << 26 });
      expect(r.error, 'lua5.4 must be on PATH (apt-get install lua5.4)').toBeUndefined();
      const lua = r.stdout.trimEnd().split('\n');
      // (The mapped store's handle drops its read-ahead at each seek: its positions are compared
      // with per-line reads above.)
      {
        const h = new FileLike(bytes, { mode: 'r', immutable: true });
        const ours: string[] = [];
        let before = 0;
        for (let line = h.read('L'); line !== null; line = h.read('L')) {
          const after = h.seek('cur');
          const valid = isUtf8(bytes.subarray(before, after));
          ours.push(`${valid ? Buffer.byteLength(line as string) : '?'} ${after}`);
          before = after;
        }
        expect(ours, label).toEqual(lua);
      }
    }
  });
});
