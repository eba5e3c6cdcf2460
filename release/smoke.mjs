// A smoke run of every package as a user installs them: run with `node smoke.mjs` in a project
// where the @luaipc packages are installed (the pack test, the arm64 and Node-matrix runs).
// Prints one line per package and "smoke ok" at the end; any failure throws.
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockSync, trylock, unlock } from '@luaipc/filelock';
import * as mmap from '@luaipc/mmap';
import { spawn } from '@luaipc/proc';
import { open as openSem } from '@luaipc/sem';
import { attach, create } from '@luaipc/shm';
import { open as openString } from '@luaipc/strfile';

const tag = `smoke-${process.pid}`;
console.log(`${process.platform} ${process.arch} node ${process.version}`);

const seg = create(tag, 64);
const peer = attach(tag);
seg.write('hello shm');
assert.equal(peer.read(9), 'hello shm');
peer.close();
seg.close();
console.log('shm ok');

const sem = openSem(tag, 1);
assert.equal(sem.tryDec(), true);
sem.inc();
assert.equal(await sem.dec(1), true);
assert.equal(sem.decSync(0.01), false);
sem.close();
console.log('sem ok');

const dir = mkdtempSync(join(tmpdir(), 'luaipc-smoke-'));
try {
  const file = join(dir, 'data.txt');
  writeFileSync(file, 'line one\nline two\n');
  const map = mmap.open(file, 'rw');
  assert.equal(map.read('l'), 'line one');
  map.seek('set', 0);
  map.write('LINE');
  map.flush();
  map.close();
  console.log('mmap ok');

  const fd = openSync(file, 'r+');
  assert.equal(lockSync(fd, 'w'), true);
  assert.equal(trylock(fd, 'r'), true); // converts our own lock, as fcntl does
  unlock(fd);
  closeSync(fd);
  console.log('filelock ok');
} finally {
  rmSync(dir, { recursive: true, force: true });
}

let out = '';
// Through the shell, as LuaIPC's proc runs commands: `echo` is a builtin, so this needs no PATH
// (the pack test strips it) and no binfmt to start a foreign binary (the arm64 run under qemu).
const child = spawn('echo hello proc', {
  stdout: true,
  callback: (stream, data) => {
    if (stream === 'stdout' && data !== null) out += data;
  },
});
assert.deepEqual(await child.wait(), [true, 'exit', 0]);
assert.equal(out, 'hello proc\n');
console.log('proc ok');

const f = openString('3 4.5\nname: Ada\n');
assert.deepEqual(f.read('n', 'n'), [3, 4.5]);
f.read('l');
assert.equal(f.read('l'), 'name: Ada');
console.log('strfile ok');
console.log(`smoke ok`);
