import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

function compile(dir: string): void {
  execFileSync(
    'npx',
    [
      'cmake-js',
      'compile',
      '-d',
      'src/native',
      '-O',
      'build-portable',
      '--CDLUAIPC_PORTABLE=ON',
      '--log-level',
      'warn',
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

/**
 * Builds (or brings up to date) the LUAIPC_PORTABLE variant of the package's addon in
 * build-portable/, which the 'portable' test project loads through LUAIPC_ADDON_DIR. Vitest runs
 * in the package's folder. The tests load other workspace addons through the same variable (shm's
 * use sem): their variant is brought up to date too (cmake rebuilds only what changed), so one
 * package's suite runs on its own in a fresh clone and never loads a stale build of another.
 */
export default function setup(): void {
  const here = process.cwd();
  compile(here);
  const pkg = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
  const deps = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
  for (const dep of deps.filter((d) => d.startsWith('@luaipc/'))) {
    const link = join(here, 'node_modules', dep);
    if (!existsSync(link)) continue;
    const dir = realpathSync(link);
    if (!existsSync(join(dir, 'src', 'native', 'CMakeLists.txt'))) continue;
    compile(dir);
  }
}
