#!/usr/bin/env node
// Keeps every native package in one shape for publishing:
// - `@luaipc/<name>` ships dist, the sources and CMake files `npx @luaipc/build` builds from (and
//   a peer module for another language where it has one), builds in a checkout with the kit of
//   `@luaipc/build` (a devDependency: an installed package is built by the one npx runs),
//   installs on every OS it has a backend for, and names its per-platform packages as optional
//   dependencies (`workspace:*`, which packing turns into its own exact version);
// - `@luaipc/<name>-<tag>` (scripts/targets.mjs) ships `<name>.node` alone, for one os/cpu/libc,
//   at the same version, with a README that sends users to `@luaipc/<name>`;
// - changesets versions the two as one (`fixed` in .changeset/config.json).
// `--check` fails instead of writing (the release checks run it).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nativePackages, platformPackageDir, root, TARGETS } from './targets.mjs';

const check = process.argv.includes('--check');
const FILES = [
  'dist',
  'src/native/CMakeLists.txt',
  'src/native/package.json',
  'src/native/*.h',
  'src/native/*.cc',
  'README.md',
  'CHANGELOG.md',
];
// Every OS with a backend: POSIX (linux, darwin, freebsd: macOS and FreeBSD build from source
// with `npx @luaipc/build`) and Windows.
const OS = ['linux', 'darwin', 'freebsd', 'win32'];
const CPU = ['x64', 'arm64'];

let wrong = 0;
function keep(file, text) {
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return;
  wrong++;
  if (check) console.error(`${file} is not in the native shape (node scripts/native-manifest.mjs)`);
  else {
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, text);
  }
}
const json = (value) => `${JSON.stringify(value, null, 2)}\n`;

const names = [];
for (const name of nativePackages()) {
  const dir = join(root, 'packages', name);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  names.push(pkg.name);
  // A package with a peer for another language (channel's python/) ships it too.
  const peers = existsSync(join(dir, 'python')) ? ['python/*.py'] : [];
  pkg.files = [...FILES.slice(0, -2), ...peers, ...FILES.slice(-2)];
  pkg.devDependencies = Object.fromEntries(
    Object.entries({ ...pkg.devDependencies, '@luaipc/build': 'workspace:^' }).sort(([a], [b]) =>
      a < b ? -1 : 1,
    ),
  );
  pkg.os = OS;
  pkg.cpu = CPU;
  pkg.optionalDependencies = Object.fromEntries(
    TARGETS.map(({ tag }) => [`${pkg.name}-${tag}`, 'workspace:*']),
  );
  keep(join(dir, 'package.json'), json(pkg));

  for (const target of TARGETS) {
    const out = platformPackageDir(name, target.tag);
    const full = `${pkg.name}-${target.tag}`;
    keep(
      join(out, 'package.json'),
      json({
        name: full,
        version: pkg.version,
        description: `The prebuilt addon of ${pkg.name} for ${target.title}. Install ${pkg.name}, which depends on it where it fits.`,
        keywords: ['luaipc', 'prebuild'],
        license: pkg.license,
        engines: pkg.engines,
        repository: { ...pkg.repository, directory: `packages/${name}-${target.tag}` },
        os: [target.os],
        cpu: [target.cpu],
        ...(target.libc ? { libc: [target.libc] } : {}),
        files: [`${name}.node`],
        // Yarn PnP: a native addon must be a real file on disk.
        preferUnplugged: true,
      }),
    );
    keep(
      join(out, 'README.md'),
      `# ${full}

The prebuilt addon of \`${pkg.name}\` for ${target.title}: \`${name}.node\` and nothing else.

Install \`${pkg.name}\`, not this package. It names one such package per platform as an optional
dependency, and package managers (npm, pnpm, bun and deno among them) install only the one whose
\`os\`, \`cpu\` and \`libc\` match the machine. Where none matches, or optional dependencies were
left out, \`${pkg.name}\` throws \`ERR_IPC_NO_BINARY\` with the command that builds the addon from
the sources it ships: \`npx @luaipc/build ${pkg.name}\`.
`,
    );
    keep(join(out, 'LICENSE'), readFileSync(join(dir, 'LICENSE'), 'utf8'));
    // changesets adds the entries; the file only has to exist.
    if (!existsSync(join(out, 'CHANGELOG.md'))) keep(join(out, 'CHANGELOG.md'), `# ${full}\n`);
  }
}

const configFile = join(root, '.changeset', 'config.json');
const config = JSON.parse(readFileSync(configFile, 'utf8'));
const missing = names
  .map((full) => [full, `${full}-*`])
  .filter((group) => !config.fixed.some((g) => JSON.stringify(g) === JSON.stringify(group)));
if (missing.length > 0) {
  wrong++;
  if (check) console.error(`.changeset/config.json: "fixed" lacks ${JSON.stringify(missing)}`);
  else {
    config.fixed.push(...missing);
    writeFileSync(configFile, json(config));
  }
}
process.exit(check && wrong > 0 ? 1 : 0);
