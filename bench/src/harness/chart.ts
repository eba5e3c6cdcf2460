import { readFileSync, writeFileSync } from 'node:fs';

/**
 * The headline chart (RESULTS.svg, shown in the root README): how each package compares with
 * what a Node user would reach for instead, read from the tables of RESULTS.md.
 */
interface Headline {
  /** What the bar says. */
  label: string;
  suite: string;
  /** The table's placement heading; the first table of the suite when absent. */
  placement?: string;
  column: string;
  better: 'higher' | 'lower';
  /** Case labels (the start of the table's first cell). */
  ours: string;
  theirs: string;
}

const HEADLINES: Headline[] = [
  {
    label: "strfile lines() vs toString().split('\\n')",
    suite: 'lines',
    column: 'lines/s',
    better: 'higher',
    ours: '@luaipc/strfile lines()',
    theirs: "toString().split('\\n')",
  },
  {
    label: 'mmap lines() vs readline over a read stream',
    suite: 'mmap',
    column: 'lines/s',
    better: 'higher',
    ours: '@luaipc/mmap open(file).lines()',
    theirs: 'readline over fs.createReadStream',
  },
  {
    label: 'sem decSync() vs process.send, round trip',
    suite: 'pingpong',
    placement: 'two CPUs',
    column: 'µs/round trip',
    better: 'lower',
    ours: '@luaipc/sem decSync()',
    theirs: 'child_process IPC (process.send)',
  },
  {
    label: 'sem await dec() vs process.send, round trip',
    suite: 'pingpong',
    placement: 'two CPUs',
    column: 'µs/round trip',
    better: 'lower',
    ours: '@luaipc/sem await dec()',
    theirs: 'child_process IPC (process.send)',
  },
  {
    label: 'channel stream vs process.send, 64 B messages',
    suite: 'channel',
    column: 'msgs/s',
    better: 'higher',
    ours: '@luaipc/channel, for await',
    theirs: 'process.send, json',
  },
  {
    label: 'channel await receive() vs process.send, round trip',
    suite: 'channel-rtt',
    placement: 'two CPUs',
    column: 'µs/round trip',
    better: 'lower',
    ours: '@luaipc/channel await receive()',
    theirs: 'child_process IPC (process.send)',
  },
  {
    label: 'filelock lockSync() vs proper-lockfile',
    suite: 'filelock',
    column: 'pairs/s',
    better: 'higher',
    ours: '@luaipc/filelock lockSync() + unlock()',
    theirs: 'proper-lockfile lockSync() + release()',
  },
  {
    label: 'filelock await lock() vs proper-lockfile',
    suite: 'filelock',
    column: 'pairs/s',
    better: 'higher',
    ours: '@luaipc/filelock await lock() + unlock()',
    theirs: 'proper-lockfile await lock() + release()',
  },
];

/** '20.94 M' -> 20940000; '1448' -> 1448. */
function parseValue(cell: string): number {
  const m = /^([\d.]+)\s*([kMG]?)$/.exec(cell.trim());
  if (m === null) return Number.NaN;
  return Number(m[1]) * ({ '': 1, k: 1e3, M: 1e6, G: 1e9 }[m[2] as string] ?? 1);
}

/** The first table after `heading` (or the section's first table) as rows of cells. */
function tableOf(section: string, placement: string | undefined): string[][] {
  const start = placement === undefined ? 0 : section.indexOf(`### ${placement}`);
  if (start < 0) return [];
  const rows: string[][] = [];
  for (const line of section.slice(start).split('\n')) {
    if (line.startsWith('|'))
      rows.push(
        line
          .slice(1, -1)
          .split('|')
          .map((c) => c.trim()),
      );
    else if (rows.length > 0) break;
  }
  return rows;
}

export interface Measured {
  label: string;
  /** How many times better ours is (>1: better). */
  ratio: number;
}

/** The headline ratios found in RESULTS.md (a headline whose suite or case is missing is left out). */
export function headlines(results: string): Measured[] {
  const out: Measured[] = [];
  for (const h of HEADLINES) {
    const section = new RegExp(
      `<!-- suite:${h.suite} -->([\\s\\S]*?)<!-- /suite:${h.suite} -->`,
    ).exec(results)?.[1];
    if (section === undefined) continue;
    const placement =
      h.placement && /^### (.*)$/m.exec(section.slice(section.indexOf(`### ${h.placement}`)))?.[1];
    const rows = tableOf(section, placement || undefined);
    const col = rows[0]?.indexOf(h.column) ?? -1;
    const find = (name: string) => rows.find((r) => r[0]?.startsWith(name))?.[col];
    const ours = parseValue(find(h.ours) ?? '');
    const theirs = parseValue(find(h.theirs) ?? '');
    if (col < 0 || !(ours > 0) || !(theirs > 0)) continue;
    out.push({ label: h.label, ratio: h.better === 'higher' ? ours / theirs : theirs / ours });
  }
  return out;
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A horizontal bar chart on a log scale: one bar per headline, its ratio at its end. */
export function renderChart(measured: Measured[], date: string): string {
  const row = 30;
  const left = 320;
  const width = 340;
  const top = 52;
  const height = top + measured.length * row + 34;
  const max =
    10 ** Math.max(1, Math.ceil(Math.log10(Math.max(...measured.map((m) => m.ratio), 10))));
  const x = (r: number) =>
    Math.round((left + (Math.log10(Math.max(r, 1)) / Math.log10(max)) * width) * 10) / 10;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 110}" height="${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="13">`,
    `<title>${xml(`Headline ratios: ${measured.map((m) => `${m.label} ${m.ratio.toFixed(1)}x`).join('; ')}`)}</title>`,
    '<rect width="100%" height="100%" fill="#ffffff"/>',
    `<text x="12" y="22" font-size="15" font-weight="600" fill="#1f2328">How many times faster than what a Node user would use instead</text>`,
    `<text x="12" y="40" font-size="11" fill="#59636e">pnpm bench, bench/RESULTS.md (${xml(date)}); log scale; medians</text>`,
  ];
  for (let tick = 1; tick <= max; tick *= 10) {
    parts.push(
      `<line x1="${x(tick)}" y1="${top - 4}" x2="${x(tick)}" y2="${height - 26}" stroke="#d1d9e0"/>`,
      `<text x="${x(tick)}" y="${height - 12}" text-anchor="middle" font-size="11" fill="#59636e">${tick}×</text>`,
    );
  }
  for (const [i, m] of measured.entries()) {
    const y = top + i * row;
    const end = x(m.ratio);
    const text =
      m.ratio >= 1
        ? `${m.ratio.toFixed(m.ratio >= 10 ? 0 : 1)}×`
        : `${m.ratio.toFixed(2)}× (slower)`;
    parts.push(
      `<text x="${left - 8}" y="${y + 16}" text-anchor="end" fill="#1f2328">${xml(m.label)}</text>`,
      `<rect x="${left}" y="${y + 4}" width="${Math.max(Math.round((end - left) * 10) / 10, 1)}" height="${row - 10}" rx="3" fill="${m.ratio >= 1 ? '#2f81f7' : '#d1242f'}"/>`,
      `<text x="${end + 6}" y="${y + 16}" font-weight="600" fill="#1f2328">${text}</text>`,
    );
  }
  parts.push('</svg>', '');
  return parts.join('\n');
}

/** Writes the chart of `resultsFile` beside it (RESULTS.svg); returns its path. */
export function writeChart(resultsFile: string): string {
  const results = readFileSync(resultsFile, 'utf8');
  const date = /^\| date \| (\S+) \|$/m.exec(results)?.[1] ?? '';
  const out = resultsFile.replace(/\.md$/, '.svg');
  writeFileSync(out, renderChart(headlines(results), date));
  return out;
}
