import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RESULT_PREFIX, runnerPath } from '../src/harness/paths.js';
import { mergeResults } from '../src/harness/report.js';
import { median } from '../src/harness/stats.js';
import { generateText } from '../src/suites/lines-data.js';

const dir = mkdtempSync(join(tmpdir(), 'luaipc-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs one case the way the harness does and returns its metrics. Timing is never checked. */
function runCase(suite: string, caseId: string, params: unknown): Record<string, number> {
  const child = spawnSync(
    process.execPath,
    [runnerPath, suite, caseId, JSON.stringify({ params, quick: true })],
    { encoding: 'utf8', timeout: 60_000 },
  );
  expect(child.stderr).toBe('');
  expect(child.status).toBe(0);
  const line = child.stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  expect(line).toBeDefined();
  return JSON.parse((line as string).slice(RESULT_PREFIX.length));
}

describe('lines suite runner', () => {
  // 1 MiB of generated text plus a last line without '\n', which every case must still count.
  const text = Buffer.concat([generateText(2 ** 20), Buffer.from('no newline at the end')]);
  const input = join(dir, 'lines.txt');
  writeFileSync(input, text);
  let newlines = 0;
  for (const byte of text) if (byte === 10) newlines++;

  for (const caseId of ['strfile', 'readline', 'readline64k', 'split']) {
    it(`${caseId} visits every line`, () => {
      const result = runCase('lines', caseId, { input });
      expect(result.lines).toBe(newlines + 1);
      expect(result.chars).toBe(text.length - newlines);
      expect(result.rssMiB).toBeGreaterThan(0);
    });
  }
});

describe('pingpong suite runner', () => {
  for (const caseId of ['ipc', 'uds']) {
    it(`${caseId} completes its round trips with a peer process`, () => {
      const result = runCase('pingpong', caseId, { roundTrips: 300, warmup: 20 });
      expect(result.roundTrips).toBe(300);
      expect(result.usPerRoundTrip).toBeGreaterThan(0);
    });
  }
});

describe('channel suites runner', () => {
  for (const caseId of [
    'channel',
    'channel-drain',
    'channel-4',
    'ipc-json',
    'ipc-advanced',
    'uds',
  ]) {
    it(`${caseId} streams every message`, () => {
      const result = runCase('channel', caseId, { messages: 4000, slowMessages: 1000 });
      expect(result.messages).toBe(caseId.startsWith('ipc') ? 1000 : 4000);
      expect(result.msgsPerSec).toBeGreaterThan(0);
    });
  }

  for (const caseId of ['channel', 'channel-sync', 'js-fifo', 'ipc']) {
    it(`channel-rtt ${caseId} completes its round trips`, () => {
      const result = runCase('channel-rtt', caseId, { roundTrips: 300, warmup: 20 });
      expect(result.roundTrips).toBe(300);
    });
  }

  for (const caseId of ['channel', 'port']) {
    it(`channel-workers ${caseId} streams between two threads`, () => {
      const result = runCase('channel-workers', caseId, { messages: 20_000 });
      expect(result.messages).toBe(20_000);
    });
  }
});

describe('report', () => {
  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('replaces only the sections that ran, in registry order', () => {
    const previous = mergeResults(
      '',
      '# old header',
      new Map([
        ['b', 'old b'],
        ['a', 'old a'],
      ]),
      ['a', 'b'],
    );
    const next = mergeResults(previous, '# new header', new Map([['b', 'new b']]), ['a', 'b']);
    expect(next).toBe(
      '# new header\n\n<!-- suite:a -->\nold a\n<!-- /suite:a -->\n\n' +
        '<!-- suite:b -->\nnew b\n<!-- /suite:b -->\n',
    );
  });
});
