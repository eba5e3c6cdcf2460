import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Builds (or brings up to date) the LUAIPC_PORTABLE addon the 'portable' test project loads. */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
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
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
  );
}
