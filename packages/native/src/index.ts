// Where the build-time parts live, as node-addon-api tells its include directory: CMake asks
// `node -p "require('@luaipc/native').cmake"`.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/index.{mjs,cjs} and src/index.ts both sit one level below the package root.
const root = fileURLToPath(new URL('..', import.meta.url));

/** Absolute path of the directory holding `luaipc/errors.h`, `luaipc/waiter.h`, `luaipc/handle.h`. */
export const include: string = join(root, 'include');
/**
 * Absolute path of `luaipc_addon.cmake`, which defines
 * `luaipc_add_addon(<name> SOURCES ... POSIX ... WINDOWS ...)`.
 */
export const cmake: string = join(root, 'cmake', 'luaipc_addon.cmake');
