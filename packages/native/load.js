const fs = require('node:fs');
const path = require('node:path');
const { fileURLToPath } = require('node:url');
const { createRequire } = require('node:module');
const { IpcError } = require('@luaipc/filelike');

/**
 * Loads `build/Release/<name>.node` of the package whose module `from` is (an `import.meta.url`
 * or a file path inside the package's `src/` or `dist/`), makes its OS errors `IpcError`s, and
 * returns its exports.
 */
function loadAddon(options) {
  const { name, from } = options;
  const packageName = options.packageName ?? `@luaipc/${name}`;
  const file = from.startsWith('file:') ? fileURLToPath(from) : from;
  const here = path.dirname(file);
  // src/*.ts (tests, ts loaders) and dist/*.{mjs,cjs} both sit one level below the package root.
  const roots = [path.resolve(here, '..'), here];
  const tried = [];
  // Another build of the addon (e.g. `build-portable`, the LUAIPC_PORTABLE variant) for test runs.
  const buildDir = process.env.LUAIPC_ADDON_DIR || 'build';
  for (const root of roots) {
    for (const config of ['Release', 'Debug']) {
      const candidate = path.join(root, buildDir, config, `${name}.node`);
      tried.push(candidate);
      if (!fs.existsSync(candidate)) continue;
      const addon = createRequire(file)(candidate);
      addon.setErrorFactory((errno, syscall, subject) =>
        IpcError.fromErrno(errno, syscall, subject === undefined ? {} : { path: subject }),
      );
      // A normal exit (and a worker's end) closes open handles through the addon's cleanup
      // hook, but process.exit() skips it; without this a creator's name would outlive us.
      if (typeof addon.atProcessExit === 'function')
        process.once('exit', () => addon.atProcessExit());
      return addon;
    }
  }
  throw new Error(
    `${packageName}: the native addon ${name}.node was not found. Tried:\n` +
      tried.map((p) => `  ${p}\n`).join('') +
      `Build it with \`pnpm --filter ${packageName} build\` (needs cmake and a C++17 compiler).`,
  );
}

exports.loadAddon = loadAddon;
