/**
 * The loader of the `@luaipc` native addons: the prebuild for this platform or a local build,
 * else `ERR_IPC_NO_BINARY`. For authors of `@luaipc` packages.
 *
 * @packageDocumentation
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IpcError, type IpcErrorDetails } from '@luaipc/filelike';

export interface LoadAddonOptions {
  /** The addon's file name without `.node` (`'sem'` loads `build/Release/sem.node`). */
  name: string;
  /** `import.meta.url` (or `__filename`) of a module in the package's `src/` or `dist/`. */
  from: string;
  /** For the "not found" message; defaults to `@luaipc/<name>`. */
  packageName?: string;
}

/** What every addon exports for the loader (luaipc/addon.h). */
interface AddonHooks {
  setErrorFactory(
    factory: (
      errno: number,
      syscall: string,
      subject: string | undefined,
      winerror: number | undefined,
      description: string | undefined,
    ) => Error,
  ): void;
  atProcessExit?: () => void;
  armFaultGuard?: () => void;
}

let libcFamily: string | undefined;
/** 'glibc' or 'musl' on Linux, '' elsewhere (platform tags have no libc part there). */
function libc(): string {
  if (libcFamily !== undefined) return libcFamily;
  libcFamily = process.platform === 'linux' ? linuxLibc() : '';
  return libcFamily;
}

/**
 * The C library this process runs on. Deno says which it was built for; elsewhere the process's
 * own mappings tell: musl's library is its dynamic loader (ld-musl-<arch>.so.1), glibc's is
 * libc.so.6. Node's report also says, but gathers far more (and needs `--allow-sys` in Deno): it
 * is only the fallback where /proc is not readable.
 */
function linuxLibc(): string {
  const deno = (globalThis as { Deno?: { build?: { env?: string } } }).Deno?.build?.env;
  if (deno === 'gnu' || deno === 'musl') return deno === 'gnu' ? 'glibc' : 'musl';
  try {
    const maps = fs.readFileSync('/proc/self/maps', 'latin1');
    if (maps.includes('/ld-musl-')) return 'musl';
    if (/\/libc(\.so|-\d)/.test(maps)) return 'glibc';
  } catch {}
  const report = process.report?.getReport?.() as { header?: { glibcVersionRuntime?: string } };
  return report?.header?.glibcVersionRuntime ? 'glibc' : 'musl';
}

/**
 * This machine's platform tag, which names the per-platform package holding its prebuilt
 * binary (`@luaipc/sem-linux-x64-glibc`): `linux-x64-glibc`, `linux-arm64-musl`, `win32-x64`.
 */
export function platformTag(): string {
  const family = libc();
  return `${process.platform}-${process.arch}${family ? `-${family}` : ''}`;
}

// ELF e_machine and PE Machine values of the architectures Node runs on.
const ELF_MACHINE: Record<string, number> = {
  x64: 62,
  arm64: 183,
  ia32: 3,
  arm: 40,
  ppc64: 21,
  s390x: 22,
  riscv64: 243,
};
const PE_MACHINE: Record<string, number> = { x64: 0x8664, arm64: 0xaa64, ia32: 0x14c };

/**
 * Whether a binary is for this OS and CPU: a checkout shared with a Windows guest, or run under
 * qemu-user for another architecture, also holds local builds that can't load here.
 */
function runsHere(file: string): boolean {
  const head = Buffer.alloc(4096);
  const fd = fs.openSync(file, 'r');
  let n: number;
  try {
    n = fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (process.platform === 'win32') {
    if (n < 64 || head[0] !== 0x4d || head[1] !== 0x5a) return false; // MZ
    const pe = head.readUInt32LE(0x3c);
    if (pe + 6 > n || head.readUInt32LE(pe) !== 0x00004550) return false; // PE\0\0
    return head.readUInt16LE(pe + 4) === PE_MACHINE[process.arch];
  }
  if (process.platform === 'darwin') {
    return n >= 4 && (head.readUInt32LE(0) === 0xfeedfacf || head.readUInt32BE(0) === 0xcafebabe);
  }
  if (n < 20 || head.toString('latin1', 0, 4) !== '\x7fELF') return false;
  const machine = head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18);
  return ELF_MACHINE[process.arch] === undefined || machine === ELF_MACHINE[process.arch];
}

/** The running JavaScript runtime, for messages: `Node v22.12.0`, `Bun 1.4.5`, `Deno 2.9.6`. */
function runtime(): string {
  const versions = process.versions as NodeJS.ProcessVersions & { bun?: string; deno?: string };
  if (versions.bun) return `Bun ${versions.bun}`;
  if (versions.deno) return `Deno ${versions.deno}`;
  return `Node ${process.version}`;
}

/**
 * The per-platform packages `packageName` names as optional dependencies: platform tag to
 * version (`@luaipc/sem-linux-x64-glibc: 0.2.0` is `linux-x64-glibc` -> `0.2.0`), where
 * prebuilt binaries ship.
 */
function prebuilt(root: string, packageName: string): Map<string, string> {
  let manifest: { optionalDependencies?: Record<string, string> };
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  } catch {
    return new Map();
  }
  return new Map(
    Object.entries(manifest.optionalDependencies ?? {})
      .filter(([dep]) => dep.startsWith(`${packageName}-`))
      .map(([dep, version]) => [dep.slice(packageName.length + 1), version]),
  );
}

/** The binary of the installed per-platform package, or undefined when it isn't installed. */
function platformBinary(root: string, platformPackage: string, name: string): string | undefined {
  try {
    return createRequire(path.join(root, 'package.json')).resolve(
      `${platformPackage}/${name}.node`,
    );
  } catch {
    return undefined;
  }
}

/** What to do when no binary was found, for the ERR_IPC_NO_BINARY message. */
function advice(
  packageName: string,
  platformPackage: string,
  tag: string,
  versions: Map<string, string>,
): string {
  const build =
    'build the addon from the sources the package ships (needs cmake and a C++17 compiler): ' +
    `npx @luaipc/build ${packageName}`;
  const version = versions.get(tag);
  if (version !== undefined) {
    // In a published manifest the version is exact; in a checkout it is `workspace:*`.
    const spec = /^\d/.test(version) ? `${platformPackage}@${version}` : platformPackage;
    return (
      `The prebuilt binary for ${tag} is the optional dependency ${platformPackage}, which is ` +
      'not installed (optional dependencies were omitted, or a lockfile made on another ' +
      `platform left it out): reinstall with optional dependencies, or npm install ${spec}. ` +
      `Or ${build}`
    );
  }
  const tags = [...versions.keys()].join(', ') || 'none';
  const none =
    libc() === 'musl'
      ? `No prebuilt binary ships for musl libc (Alpine Linux); prebuilt: ${tags}.`
      : `No prebuilt binary ships for ${tag}; prebuilt: ${tags}.`;
  return `${none} To use it here, ${build}`;
}

const FAULT_GUARDS = Symbol.for('@luaipc/native.faultGuards');

/**
 * Keeps an addon's SIGBUS fault handler (luaipc/mapping_os.h) in place. Node installs its own
 * handler when the first process.on('SIGBUS') listener comes and restores the default action
 * when the last one goes, either way replacing ours. Node wires signals in listeners it added
 * to `process` at startup, which run before these, so by the time these run the change is made
 * and `arm` puts ours back on top (chained to Node's while a listener exists, so `kill -BUS`
 * still reaches it). One pair of listeners per `process` (the main thread's is the one that
 * matters: Node wires no signals in workers), shared by every addon and copy of this loader.
 */
function keepFaultGuard(arm: () => void): void {
  const holder = process as unknown as Record<symbol, Set<() => void> | undefined>;
  let guards = holder[FAULT_GUARDS];
  if (guards === undefined) {
    guards = new Set();
    Object.defineProperty(process, FAULT_GUARDS, { value: guards });
    const all = guards;
    const rearm = (event: string | symbol): void => {
      if (event === 'SIGBUS') for (const guard of all) guard();
    };
    process.on('newListener', rearm);
    process.on('removeListener', rearm);
  }
  guards.add(arm);
}

/**
 * Loads the addon `<name>.node` of the package whose module `from` is (an `import.meta.url` or
 * a file path inside the package's `src/` or `dist/`): the binary of the installed per-platform
 * package `<packageName>-<platformTag()>`, else a local build (`build/Release`, `build/Debug`);
 * when both exist, the newer. Makes its OS errors `IpcError`s and returns its exports. Throws an
 * Error with code `ERR_IPC_NO_BINARY` when there is none.
 */
export function loadAddon<T = unknown>(options: LoadAddonOptions): T {
  const { name, from } = options;
  const packageName = options.packageName ?? `@luaipc/${name}`;
  const file = from.startsWith('file:') ? fileURLToPath(from) : from;
  // src/*.ts (tests, ts loaders) and dist/*.{mjs,cjs} both sit one level below the package root.
  const root = path.resolve(path.dirname(file), '..');
  const tag = platformTag();
  const platformPackage = `${packageName}-${tag}`;
  // LUAIPC_ADDON_DIR: another local build to load instead (e.g. `build-portable`, the
  // LUAIPC_PORTABLE variant), for test runs; it then comes before the prebuild.
  const buildDir = process.env.LUAIPC_ADDON_DIR;
  const local = ['Release', 'Debug'].map((c) =>
    path.join(root, buildDir || 'build', c, `${name}.node`),
  );
  const prebuild = buildDir ? undefined : platformBinary(root, platformPackage, name);
  const candidates = prebuild === undefined ? local : [prebuild, ...local];
  const found = candidates.filter((c) => fs.existsSync(c) && runsHere(c));
  // Installed packages have only the prebuild. In a checkout that also has a local build, the
  // one built last wins, so neither a stale prebuild nor a stale build shadows fresh work.
  if (found.length > 1 && found[0] === prebuild) {
    const mtime = (f: string): number => fs.statSync(f).mtimeMs;
    found.sort((a, b) => mtime(b) - mtime(a));
  }
  const candidate = found[0];
  if (candidate !== undefined) return prepare(createRequire(file)(candidate) as AddonHooks) as T;
  const tried = [
    ...(buildDir || prebuild !== undefined ? [] : [`${platformPackage} (not installed)`]),
    ...candidates,
  ];
  const error = new Error(
    `${packageName}: no native addon for ${process.platform}-${process.arch}` +
      `${libc() ? ` (${libc()})` : ''}, ${runtime()}. Tried:\n` +
      tried.map((p) => `  ${p}\n`).join('') +
      advice(packageName, platformPackage, tag, prebuilt(root, packageName)),
  );
  Object.defineProperty(error, 'code', { value: 'ERR_IPC_NO_BINARY', enumerable: true });
  throw error;
}

/** Installs the error factory and the exit hook on a freshly loaded addon; returns it. */
function prepare(addon: AddonHooks): AddonHooks {
  addon.setErrorFactory((errno, syscall, subject, winerror, description) => {
    const details: IpcErrorDetails = {};
    if (subject !== undefined) details.path = subject;
    if (description !== undefined) details.description = description;
    const error = IpcError.fromErrno(errno, syscall, details);
    if (winerror !== undefined)
      Object.defineProperty(error, 'winerror', { value: winerror, enumerable: true });
    return error;
  });
  // A normal exit (and a worker's end) closes open handles through the addon's cleanup
  // hook, but process.exit() skips it; without this a creator's name would outlive us.
  const { atProcessExit } = addon;
  if (typeof atProcessExit === 'function') process.once('exit', () => atProcessExit());
  if (typeof addon.armFaultGuard === 'function') keepFaultGuard(addon.armFaultGuard);
  return addon;
}
