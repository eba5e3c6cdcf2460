import { execFileSync } from 'node:child_process';

/**
 * Builds (or brings up to date) the LUAIPC_PORTABLE variant of the package's addon in
 * build-portable/, which the 'portable' test project loads through LUAIPC_ADDON_DIR. Vitest runs
 * in the package's folder.
 */
export default function setup(): void {
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
    { cwd: process.cwd(), stdio: ['ignore', 'ignore', 'inherit'] },
  );
}
