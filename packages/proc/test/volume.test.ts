import { describe, expect, it } from 'vitest';
import { runFixture } from './helpers.js';

const GiB = 1 << 30;

interface Report {
  result: unknown;
  received: number;
  calls: number;
  sha256: string;
  digest: string;
  rssGrowthMiB: number;
  lateMs: number | null;
}

/** Runs volume.mjs in a child process; it must end cleanly and say what it saw. */
async function volume(how: 'wait' | 'waitSync', kind: string, bytes: number): Promise<Report> {
  const r = await runFixture('volume.mjs', [how, kind, String(bytes)], [], 180_000);
  expect(r).toMatchObject({ code: 0, signal: null, stderr: '' });
  const report = JSON.parse(r.stdout) as Report;
  // Every byte, once and in order: pattern.mjs sends the digest of what it wrote.
  expect(report.result).toEqual([true, 'exit', 0]);
  expect(report.received).toBe(bytes);
  expect(report.digest).toMatch(/^[0-9a-f]{64}$/);
  expect(report.sha256).toBe(report.digest);
  return report;
}

// The bounds are generous on purpose (a loaded CI machine must not trip them): memory that grew
// with the volume would be near 1 GiB, a dispatch that kept looping starved the timer for
// seconds. bench/ (suite proc-flood) reports the measured figures.
describe('output volume (1 GiB through the callback, in child processes)', () => {
  it('waitSync(): memory stays bounded whatever the total (a callback that keeps nothing)', async () => {
    const report = await volume('waitSync', 'fast', GiB);
    expect(report.rssGrowthMiB).toBeLessThan(256);
  });

  it('await wait(): memory stays bounded and a 10 ms timer keeps firing', async () => {
    const report = await volume('wait', 'fast', GiB);
    expect(report.rssGrowthMiB).toBeLessThan(256);
    expect(report.lateMs).toBeLessThan(1000);
  });

  it('await wait() with a slow callback (0.3 ms a call): the child is held back, not the event loop', async () => {
    const report = await volume('wait', 'slow', GiB);
    expect(report.rssGrowthMiB).toBeLessThan(256);
    expect(report.lateMs).toBeLessThan(1000);
  });

  it("await wait() with data.split('\\n') on every string (512 MiB): bounded, nothing lost", async () => {
    const report = await volume('wait', 'split', GiB / 2);
    expect(report.rssGrowthMiB).toBeLessThan(256);
    expect(report.lateMs).toBeLessThan(1000);
  });
});
