#!/usr/bin/env node
// Runs every package's tests through turbo, then prints one closing line for the repository
// ("N passed, N failed") from the JSON reports vitest wrote, whatever turbo's exit code was.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const workspaces = ['packages', 'bench', 'examples', 'release'].flatMap((dir) => {
  const base = join(root, dir);
  if (!existsSync(join(base, 'package.json'))) {
    return existsSync(base) ? readdirSync(base).map((name) => join(base, name)) : [];
  }
  return [base];
});
const reports = workspaces.map((dir) => join(dir, 'test-results', 'vitest.json'));
for (const report of reports) rmSync(report, { force: true });

const turbo = spawnSync(
  'turbo',
  ['run', 'test', '--concurrency=1', '--force', '--continue', ...process.argv.slice(2)],
  { stdio: 'inherit', env: { TURBO_TELEMETRY_DISABLED: '1', ...process.env } },
);

let passed = 0;
let failed = 0;
let skipped = 0;
const perPackage = [];
for (const report of reports) {
  if (!existsSync(report)) continue;
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed += r.numPassedTests;
  failed +=
    r.numFailedTests + (r.numTotalTestSuites > 0 && !r.success && r.numFailedTests === 0 ? 1 : 0);
  skipped += r.numPendingTests + r.numTodoTests;
  perPackage.push(
    `${report.slice(root.length + 1).split('/test-results')[0]}: ${r.numPassedTests}/${r.numTotalTests}`,
  );
}
if (turbo.status !== 0 && failed === 0) failed = 1; // a build or a crash failed before any test did

// The Windows suites: cross-built addons under Wine (scripts/build-win.mjs, test-win.mjs).
let windows = 'not run (LUAIPC_SKIP_WINDOWS)';
let windowsOk = true;
// biome-ignore lint/suspicious/noUndeclaredEnvVars: read by this script, not by a turbo task
if (!process.env.LUAIPC_SKIP_WINDOWS) {
  const build = spawnSync('node', [join(root, 'scripts', 'build-win.mjs')], { stdio: 'inherit' });
  const run =
    build.status === 0
      ? spawnSync('node', [join(root, 'scripts', 'test-win.mjs')], { encoding: 'utf8' })
      : { status: 1, stdout: '' };
  process.stdout.write(run.stdout ?? '');
  const m = /^(\d+) passed, (\d+) failed$/m.exec(run.stdout ?? '');
  const winPassed = Number(m?.[1] ?? 0);
  const winFailed = Number(m?.[2] ?? 0) + (run.status !== 0 && !(Number(m?.[2]) > 0) ? 1 : 0);
  passed += winPassed;
  failed += winFailed;
  windowsOk = run.status === 0;
  windows = `${winPassed}/${winPassed + winFailed}`;
}

console.log(`\ntests by package: ${perPackage.join(', ')}; Windows (Wine): ${windows}`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(turbo.status === 0 && windowsOk ? 0 : 1);
