#!/usr/bin/env node
// An older Linux to run the prebuilds on: a Debian 11 (bullseye, glibc 2.31, libstdc++ 6.0.28)
// root made with debootstrap from Debian's own packages, kept in the machine's cache
// ($XDG_CACHE_HOME or ~/.cache, under luaipc/) so it is made once per machine. Programs run in
// it through chroot inside a private mount namespace (unshare), with proc, a fresh /dev/shm and
// /tmp, and the host folders a run needs bound in; nothing stays mounted after a run.
// Making it needs root, debootstrap and a Debian mirror; without them `prepareOldLinux()` says
// why instead (the release checks then skip with that message).
// A user's system older than bullseye (RHEL 8, glibc 2.28) is held to by the static check of
// version needs (scripts/elf-needs.mjs): buster is no longer on the mirrors.
//   node scripts/old-linux.mjs       makes the root (if it can) and prints where it is
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const SUITE = 'bullseye';
const FALLBACK_MIRROR = 'http://deb.debian.org/debian';

export function cacheDir() {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'luaipc');
}

/** The root's folder: complete once it has /etc/debian_version and our marker. */
export function rootDir() {
  return join(cacheDir(), `debian-${SUITE}-${process.arch}`);
}

const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;

/** The Debian mirror this machine's apt sources name, else deb.debian.org. */
export function debianMirror() {
  const texts = [];
  for (const file of ['/etc/apt/sources.list']) if (existsSync(file)) texts.push(file);
  if (existsSync('/etc/apt/sources.list.d')) {
    for (const f of readdirSync('/etc/apt/sources.list.d')) {
      if (/\.(list|sources)$/.test(f)) texts.push(join('/etc/apt/sources.list.d', f));
    }
  }
  for (const file of texts) {
    const text = readFileSync(file, 'utf8');
    // One-line style: "deb http://host/debian bookworm main"; deb822: "URIs: http://host/debian".
    for (const m of text.matchAll(/^(?:deb(?:\s+\[[^\]]*\])?\s+|URIs:\s*)(\S+)/gm)) {
      const uri = (m[1] ?? '').replace(/\/+$/, '');
      if (/\/debian$/.test(uri)) return uri;
    }
  }
  return FALLBACK_MIRROR;
}

const marker = (root) => join(root, '.luaipc-complete');

/**
 * The Debian 11 root, made now if it isn't cached yet (a few minutes). Resolves to
 * `{ root }`, or to `{ skip }` with the reason it can't be made on this machine.
 */
export async function prepareOldLinux({ log = console.log } = {}) {
  const root = rootDir();
  const isRoot = process.getuid?.() === 0;
  if (process.platform !== 'linux' || !['x64', 'arm64'].includes(process.arch)) {
    return {
      skip: `Debian 11 root: needs Linux on x64 or arm64 (this is ${process.platform}-${process.arch})`,
    };
  }
  if (!isRoot) {
    return {
      skip: 'Debian 11 root: chroot and mounts need root (run the release checks as root to include it)',
    };
  }
  if (!has('unshare') || !has('chroot')) {
    return {
      skip: 'Debian 11 root: unshare and chroot are missing (apt-get install util-linux coreutils)',
    };
  }
  if (existsSync(marker(root))) return { root };

  const mirror = debianMirror();
  try {
    const r = await fetch(`${mirror}/dists/${SUITE}/Release`, {
      method: 'HEAD',
      signal: AbortSignal.timeout(15_000),
    });
    if (!r.ok) return { skip: `Debian 11 root: ${mirror} has no ${SUITE} (HTTP ${r.status})` };
  } catch (error) {
    return {
      skip: `Debian 11 root: the mirror ${mirror} is not reachable (${error.cause?.code ?? error.message})`,
    };
  }
  if (!has('debootstrap')) {
    if (!has('apt-get')) return { skip: 'Debian 11 root: debootstrap is missing' };
    log('Debian 11 root: installing debootstrap');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['install', '-y', '-qq', 'debootstrap'], { stdio: 'ignore', env });
  }
  // Made beside its final place and renamed into it: a run cut short leaves no half root, and
  // two runs at once (two checkouts) each finish one, and the first rename wins.
  mkdirSync(cacheDir(), { recursive: true });
  const partial = `${root}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  log(
    `Debian 11 root: debootstrap --variant=minbase ${SUITE} from ${mirror} (a few minutes, once)`,
  );
  const t0 = performance.now();
  const r = spawnSync('debootstrap', ['--variant=minbase', SUITE, partial, mirror], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) {
    rmSync(partial, { recursive: true, force: true });
    throw new Error(
      `debootstrap failed (exit ${r.status}):\n${(r.stdout + r.stderr).slice(-3000)}`,
    );
  }
  execFileSync('sh', ['-c', `: > '${marker(partial)}'`]);
  try {
    renameSync(partial, root);
  } catch {
    rmSync(partial, { recursive: true, force: true });
  }
  if (!existsSync(marker(root))) throw new Error(`Debian 11 root: ${root} is incomplete`);
  log(`Debian 11 root: ${root} (${Math.round((performance.now() - t0) / 1000)} s)`);
  return { root };
}

const quote = (s) => `'${String(s).replaceAll("'", `'\\''`)}'`;

/**
 * Runs `argv` inside the root, as root, in a mount namespace of its own: proc, a tmpfs on
 * /dev/shm and /tmp, and each `binds` entry ([hostDir, dirInRoot, 'ro'?]) bound in. `env` (and
 * a PATH) is the whole environment inside. Returns spawnSync's result (utf8).
 */
export function runInRoot(root, { argv, binds = [], cwd = '/', env = {}, timeout = 300_000 }) {
  const steps = [
    `mount -t proc proc ${quote(join(root, 'proc'))}`,
    `mount -t tmpfs -o mode=1777 tmpfs ${quote(join(root, 'dev', 'shm'))}`,
    `mount -t tmpfs -o mode=1777 tmpfs ${quote(join(root, 'tmp'))}`,
  ];
  for (const [host, inside, ro] of binds) {
    const target = join(root, inside);
    steps.push(`mkdir -p ${quote(target)}`, `mount --bind ${quote(host)} ${quote(target)}`);
    if (ro === 'ro') steps.push(`mount -o remount,bind,ro ${quote(target)}`);
  }
  const inner = `cd ${quote(cwd)} && exec ${argv.map(quote).join(' ')}`;
  const vars = Object.entries({ PATH: '/usr/local/bin:/usr/bin:/bin', ...env }).map(([k, v]) =>
    quote(`${k}=${v}`),
  );
  steps.push(
    `exec chroot ${quote(root)} /usr/bin/env -i ${vars.join(' ')} /bin/sh -c ${quote(inner)}`,
  );
  return spawnSync(
    'unshare',
    ['--mount', '--propagation', 'private', 'sh', '-c', steps.join(' && ')],
    {
      encoding: 'utf8',
      timeout,
      maxBuffer: 64 << 20,
    },
  );
}

// The libraries that held parts of libc's API before glibc 2.34 moved them into libc.so.6.
const SPLIT_LIBRARIES = [
  'libpthread.so.0',
  'librt.so.1',
  'libdl.so.2',
  'libutil.so.1',
  'libanl.so.1',
];

/**
 * Which of the root's split-off libraries defines each symbol libc.so.6 itself lacks there:
 * `shm_open` -> `librt.so.1`. A binary that calls one must name that library (the process
 * that loads it may not have).
 */
export function symbolHomes(root) {
  const dir = ['lib/x86_64-linux-gnu', 'lib/aarch64-linux-gnu']
    .map((d) => join(root, d))
    .find((d) => existsSync(join(d, 'libc.so.6')));
  const defined = (lib) => {
    const out = execFileSync('objdump', ['-T', join(dir, lib)], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    const names = new Set();
    for (const line of out.split('\n')) {
      if (/\*UND\*/.test(line) || !/\sD[FO]\s/.test(line)) continue;
      names.add(line.trim().split(/\s+/).pop());
    }
    return names;
  };
  const libc = defined('libc.so.6');
  const homes = new Map();
  for (const lib of SPLIT_LIBRARIES) {
    if (!existsSync(join(dir, lib))) continue;
    for (const symbol of defined(lib)) if (!libc.has(symbol)) homes.set(symbol, lib);
  }
  return homes;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await prepareOldLinux();
  console.log(r.root ?? r.skip);
  process.exit(r.root ? 0 : 1);
}
