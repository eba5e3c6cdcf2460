import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** Builds every prebuilt binary once for the whole run (scripts/prebuild.mjs, all targets). */
export default function setup(): void {
  const script = join(import.meta.dirname, '..', '..', 'scripts', 'prebuild.mjs');
  const r = spawnSync(process.execPath, [script], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`prebuild failed (exit ${r.status})`);
}
