// What the Linux prebuilds may need from the system: nothing newer than glibc 2.28 and
// GLIBCXX 3.4.25 (RHEL 8, the oldest system Node 20 runs on).
export const FLOOR = { GLIBC: [2, 28], GLIBCXX: [3, 4, 25] };

/** `GLIBC_2.34` -> [2, 34]. */
export const parseVersion = (v) => v.split('_')[1].split('.').map(Number);

/** Whether version a ([2, 34]) is newer than b. */
export function newer(a, b) {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return false;
}

/** Whether a version need (`GLIBC_2.34`) is newer than the floor. */
export function aboveFloor(version) {
  const family = version.startsWith('GLIBCXX_')
    ? 'GLIBCXX'
    : version.startsWith('GLIBC_')
      ? 'GLIBC'
      : null;
  return family !== null && newer(parseVersion(version), FLOOR[family]);
}

// The versioned symbols an ELF shared object needs from other libraries (its .gnu.version_r
// requirements as objdump -T lists them): [{ symbol, version }]. Used by the prebuild script and
// by the test that holds the Linux prebuilds to the glibc floor.
import { execFileSync } from 'node:child_process';

export function versionNeeds(file, objdump = 'objdump') {
  const out = execFileSync(objdump, ['-T', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const needs = [];
  for (const line of out.split('\n')) {
    // Undefined symbols: "0000000000000000      DF *UND*  0000000000000000 (GLIBC_2.34) sem_open"
    const m = /\*UND\*\s+\S+\s+\(?((?:GLIBC|GLIBCXX|CXXABI|GCC)_[0-9.]+)\)?\s+(\S+)$/.exec(line);
    if (m) needs.push({ symbol: m[2], version: m[1] });
  }
  return needs;
}
