// Deno runs the finalizer of an external ArrayBuffer on a thread of V8's own, not on the JS
// thread: collecting tens of thousands of unclosed mmap handles after a mapped file was shrunk
// ended Deno in a V8 check failure in most runs while that finalizer made Node-API calls there.
// The run is repeated, each in a child process, as it failed in most runs but not all; the
// packages are the workspace's builds, copied (not linked) into a project, as Deno analyses
// CommonJS exports only under node_modules.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { repo, run, runtimeBinaries } from './helpers.js';

const RUNS = 12;
const work = mkdtempSync(join(tmpdir(), 'luaipc-deno-collection-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

const SCRIPT = `import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as mmap from '@luaipc/mmap';
const dir = mkdtempSync(join(tmpdir(), 'luaipc-collected-'));
try {
  const shrinks = join(dir, 'shrinks');
  writeFileSync(shrinks, Buffer.alloc(1 << 16, 0x61));
  const map = mmap.open(shrinks, 'r');
  const view = map.buffer;
  const fd = openSync(shrinks, 'r+');
  ftruncateSync(fd, 0);
  closeSync(fd);
  if (view[40_000] !== 0) throw new Error('a lost page did not read as zero');
  map.close();
  const file = join(dir, 'collected');
  writeFileSync(file, Buffer.alloc(1 << 20));
  // More mappings than the kernel allows one process: only collection frees them.
  for (let i = 0; i < 70_000; i++) {
    mmap.open(file, 'r');
    if (i % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log('collected ok');
`;

it(`Deno: unclosed mmap handles are collected after a mapping was shrunk (${RUNS} runs)`, () => {
  const deno = runtimeBinaries().deno;
  const dir = join(work, 'project');
  for (const name of ['native', 'filelike', 'mmap']) {
    const from = join(repo, 'packages', name);
    cpSync(from, join(dir, 'node_modules', '@luaipc', name), {
      recursive: true,
      filter: (src) => !/[/\\](node_modules|test|test-win)$/.test(src.slice(from.length)),
    });
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  writeFileSync(join(dir, 'collected.mjs'), SCRIPT);
  const env = {
    ...process.env,
    NO_COLOR: '1',
    DENO_NO_UPDATE_CHECK: '1',
    DENO_DIR: join(work, '.deno-cache'),
  };
  const results = [];
  for (let i = 0; i < RUNS; i++) {
    const r = run(deno, ['run', '-A', 'collected.mjs'], { cwd: dir, env, timeout: 120_000 });
    results.push({
      status: r.status,
      signal: r.signal,
      stdout: r.stdout.trim(),
      crash: (/Check failed.*/.exec(r.stderr) ?? /panicked.*/.exec(r.stderr))?.[0] ?? null,
    });
  }
  const failed = results.filter((r) => r.stdout !== 'collected ok').length;
  console.log(`deno collection runs: ${RUNS - failed} of ${RUNS} passed`);
  expect(results).toEqual(
    Array.from({ length: RUNS }, () => ({
      status: 0,
      signal: null,
      stdout: 'collected ok',
      crash: null,
    })),
  );
}, 600_000);
