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
