#!/usr/bin/env node
// Builds an installed @luaipc package's addon from its shipped sources, in place
// (<package>/build/Release/<name>.node, which the loader finds when no prebuild matches):
//   npx @luaipc/build @luaipc/sem [@luaipc/shm ...]
// Needs cmake and a C++17 compiler. The build tools (cmake-js, node-addon-api, node-api-headers,
// pinned to the versions the prebuilds use) are installed into a temporary folder with npm. The
// glue and the CMake function come from this package, wherever npx put it: an installed package
// has no @luaipc/build of its own (a devDependency), so its CMakeLists is handed LUAIPC_CMAKE.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { cmake } = require('./index.js');

const TOOLS = ['cmake-js@8.0.0', 'node-addon-api@8.9.2', 'node-api-headers@1.9.0'];

function main(names) {
  if (names.length === 0) {
    console.error('usage: npx @luaipc/build <package> [...], e.g. npx @luaipc/build @luaipc/sem');
    process.exit(2);
  }
  const dirs = names.map((name) => {
    const manifest = require.resolve(`${name}/package.json`, { paths: [process.cwd()] });
    const dir = path.dirname(manifest);
    if (!fs.existsSync(path.join(dir, 'src', 'native', 'CMakeLists.txt'))) {
      throw new Error(`${name} has no native sources to build (${dir})`);
    }
    return { name, dir };
  });
  const tools = fs.mkdtempSync(path.join(os.tmpdir(), 'luaipc-build-'));
  try {
    console.log(`luaipc-build-addon: installing ${TOOLS.join(', ')}`);
    execFileSync(
      'npm',
      ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', tools, ...TOOLS],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    const cmakeJs = path.join(tools, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
    const env = {
      ...process.env,
      LUAIPC_NODE_ADDON_API: path.join(tools, 'node_modules', 'node-addon-api'),
    };
    for (const { name, dir } of dirs) {
      console.log(`luaipc-build-addon: building ${name} in ${dir}`);
      execFileSync(
        process.execPath,
        [
          cmakeJs,
          'compile',
          '-d',
          'src/native',
          '-O',
          'build',
          `--CDLUAIPC_CMAKE=${cmake}`,
          '--log-level',
          'warn',
        ],
        {
          cwd: dir,
          env,
          stdio: 'inherit',
        },
      );
    }
  } finally {
    fs.rmSync(tools, { recursive: true, force: true });
  }
}

try {
  main(process.argv.slice(2));
} catch (error) {
  console.error(`luaipc-build-addon: ${error.message}`);
  process.exit(1);
}
