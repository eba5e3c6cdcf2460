#!/usr/bin/env node
// Builds every package, runs every package's tests through turbo, then the Windows suites, and
// prints one closing line for the repository ("N passed, N failed, N skipped") from the JSON
// reports vitest wrote and the Windows suites' TAP, whatever turbo's exit code was.
//   node scripts/test.mjs [turbo filters ...] [-- vitest arguments]
// Written to a file or a pipe, the log has no colour codes (NO_COLOR), so it can be grepped.
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

const args = process.argv.slice(2);
const dash = args.indexOf('--');
const filters = dash < 0 ? args : args.slice(0, dash);
const vitestArgs = dash < 0 ? [] : args.slice(dash);
const color = process.stdout.isTTY ? [] : ['--no-color'];
const env = {
  TURBO_TELEMETRY_DISABLED: '1',
  ...process.env,
  ...(process.stdout.isTTY ? {} : { NO_COLOR: '1' }),
};
// Builds first, quietly unless one fails (cached when nothing changed), then only the tests:
// the log holds test output alone.
const build = spawnSync(
  'turbo',
  ['run', 'build', '--output-logs=errors-only', ...color, ...filters],
  { stdio: 'inherit', env },
);
const turbo =
  build.status === 0
    ? spawnSync(
        'turbo',
        [
          'run',
          'test',
          '--only',
          '--concurrency=1',
          '--continue',
          ...color,
          ...filters,
          ...vitestArgs,
        ],
        { stdio: 'inherit', env },
      )
    : build;

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
  const build = spawnSync('node', [join(root, 'scripts', 'build-win.mjs')], {
    stdio: 'inherit',
    env,
  });
  const run =
    build.status === 0
      ? spawnSync('node', [join(root, 'scripts', 'test-win.mjs')], { encoding: 'utf8', env })
      : { status: 1, stdout: '' };
  process.stdout.write(run.stdout ?? '');
  const m = /^(\d+) passed, (\d+) failed, (\d+) skipped$/m.exec(run.stdout ?? '');
  const winPassed = Number(m?.[1] ?? 0);
  const winFailed = Number(m?.[2] ?? 0) + (run.status !== 0 && !(Number(m?.[2]) > 0) ? 1 : 0);
  const winSkipped = Number(m?.[3] ?? 0);
  passed += winPassed;
  failed += winFailed;
  skipped += winSkipped;
  windowsOk = run.status === 0;
  windows = `${winPassed}/${winPassed + winFailed + winSkipped}`;
}

console.log(`\ntests by package: ${perPackage.join(', ')}; Windows (Wine): ${windows}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(turbo.status === 0 && windowsOk ? 0 : 1);
