import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { headlines, renderChart } from '../src/harness/chart.js';

const sample = `| date | 2026-01-01T00:00:00Z |

<!-- suite:lines -->
### not pinned

| case | lines/s | MB/s |
|---|---|---|
| @luaipc/strfile lines() | 20.94 M | 1711 |
| toString().split('\\n') | 4.83 M | 395 |
<!-- /suite:lines -->

<!-- suite:pingpong -->
### same CPU (taskset -c 0)

| case | µs/round trip |
|---|---|
| child_process IPC (process.send) | 21.7 |
| @luaipc/sem decSync() | 4.6 |

### two CPUs (taskset -c 0,1)

| case | µs/round trip |
|---|---|
| child_process IPC (process.send) | 90.0 |
| @luaipc/sem decSync() (1 failed) | 1.5 |
<!-- /suite:pingpong -->
`;

describe('the headline chart', () => {
  it('reads the ratios from the tables (the placement asked for; lower-is-better inverted)', () => {
    const found = headlines(sample);
    expect(found.map((h) => h.label)).toEqual([
      "strfile lines() vs toString().split('\\n')",
      'sem decSync() vs process.send, round trip',
    ]);
    expect(found[0]?.ratio).toBeCloseTo(20.94 / 4.83, 6);
    expect(found[1]?.ratio).toBeCloseTo(90 / 1.5, 6);
  });

  it('draws one bar per headline, with its ratio', () => {
    const svg = renderChart(headlines(sample), '2026-01-01');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<rect x=/g)).toHaveLength(2);
    expect(svg).toContain('>4.3×<');
    expect(svg).toContain('>60×<');
  });

  it('finds the headlines in the committed RESULTS.md', () => {
    const found = headlines(readFileSync(new URL('../RESULTS.md', import.meta.url), 'utf8'));
    expect(found.length).toBeGreaterThanOrEqual(3);
    for (const h of found) expect(h.ratio).toBeGreaterThan(0);
  });
});
