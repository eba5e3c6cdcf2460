// A smoke run of every package as a user installs them: run it with `node smoke.mjs` (or
// `bun smoke.mjs`, `deno run -A smoke.mjs`) in a project where the @luaipc packages are
// installed (the pack test, the arm64 run under qemu, Debian 11 in a chroot, Bun and Deno).
// It touches what differs between systems and runtimes: named objects, a wait that is still
// pending while the event loop runs (a semaphore, a file lock, a channel), mappings, and a child's output streamed into callbacks.
// Prints one line per package and "smoke ok" at the end; any failure throws.
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, create as createChannel } from '@luaipc/channel';
import { lock, lockSync, trylock, unlock } from '@luaipc/filelock';
import * as mmap from '@luaipc/mmap';
import { spawn } from '@luaipc/proc';
import { open as openSem } from '@luaipc/sem';
import { attach, create } from '@luaipc/shm';
import { open as openString } from '@luaipc/strfile';

const tag = `smoke-${process.pid}`;
const runtime = globalThis.Bun
  ? `bun ${globalThis.Bun.version}`
  : globalThis.Deno
    ? `deno ${globalThis.Deno.version.deno}`
    : `node ${process.version}`;
console.log(`${process.platform} ${process.arch} ${runtime}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `promise` settles; asserts it is still pending after `ms` of a free loop. */
async function stillPending(promise, ms) {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await sleep(ms);
  assert.equal(settled, false, 'the wait settled before anything released it');
}

const seg = create(tag, 64);
const peer = attach(tag);
seg.write('hello shm');
assert.equal(peer.read(9), 'hello shm');
peer.buffer[0] = 0x48; // 'H', through the other handle's mapping
seg.seek('set', 0);
assert.equal(seg.read(5), 'Hello');
peer.close();
seg.close();
console.log('shm ok');

const sem = openSem(tag, 1); // LuaIPC creates with a value > 0: take it first
assert.equal(sem.tryDec(), true);
assert.equal(sem.tryDec(), false);
const pendingDec = sem.dec(10);
await stillPending(pendingDec, 50); // timers run while dec() waits on a thread of ours
sem.inc();
assert.equal(await pendingDec, true);
assert.equal(await sem.dec(0.01), false);
sem.inc();
assert.equal(sem.decSync(1), true);
sem.close();
console.log('sem ok');

// A receive() pending while the loop runs, woken by the doorbell when a message comes; a full
// ring makes a send() wait until the receiver takes one.
const rx = createChannel(`${tag}-c`, { capacity: 4096, encoding: 'utf8' });
const tx = connect(rx.name);
const pendingReceive = rx.receive(10);
await stillPending(pendingReceive, 50);
assert.equal(await tx.send('hello channel'), true);
assert.equal(await pendingReceive, 'hello channel');
assert.equal(tx.trySend(Buffer.alloc(rx.maxMessage)), true);
const pendingSend = tx.send('after the big one', 10);
await stillPending(pendingSend, 50);
assert.equal((await rx.receive(1)).length, rx.maxMessage);
assert.equal(await pendingSend, true);
assert.equal(await rx.receive(1), 'after the big one');
tx.close();
rx.close();
console.log('channel ok');

const dir = mkdtempSync(join(tmpdir(), 'luaipc-smoke-'));
try {
  const file = join(dir, 'data.txt');
  writeFileSync(file, 'line one\nline two\n');
  const map = mmap.open(file, 'rw');
  assert.equal(map.read('l'), 'line one');
  map.seek('set', 0);
  map.write('LINE');
  map.flush();
  map.seek('set', 0);
  assert.deepEqual([...map.lines()], ['LINE one', 'line two']);
  map.close();
  console.log('mmap ok');

  // Two open file descriptions of one file: their locks conflict even within one process.
  const holder = openSync(file, 'r+');
  const waiter = openSync(file, 'r+');
  assert.equal(lockSync(holder, 'w'), true);
  assert.equal(trylock(waiter, 'r'), false);
  const pendingLock = lock(waiter, 'w', { timeout: 10 });
  await stillPending(pendingLock, 50);
  unlock(holder);
  assert.equal(await pendingLock, true);
  unlock(waiter);
  closeSync(holder);
  closeSync(waiter);
  console.log('filelock ok');
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// Through the shell, as LuaIPC's proc runs commands: `echo` is a builtin, so this needs no PATH
// (the pack test strips it) and no binfmt to start a foreign binary (the arm64 run under qemu).
let out = '';
const child = spawn('echo hello proc', {
  stdout: true,
  callback: (stream, data) => {
    if (stream === 'stdout' && data !== null) out += data;
  },
});
assert.deepEqual(await child.wait(), [true, 'exit', 0]);
assert.equal(out, 'hello proc\n');

// More output than a pipe holds: waitSync() hands it to the callback chunk by chunk as the
// child writes it, from inside the call.
const LINE = 'a line of the streaming smoke run, long enough to fill pipes quickly\n';
const LINES = 4000;
const chunks = [];
const streamer = spawn(
  `i=0; while [ $i -lt ${LINES} ]; do echo '${LINE.trim()}'; i=$((i+1)); done`,
  {
    stdout: true,
    callback: (stream, data) => {
      if (stream === 'stdout' && data !== null) chunks.push(data);
    },
  },
);
assert.deepEqual(streamer.waitSync(), [true, 'exit', 0]);
assert.ok(chunks.length > 1, `waitSync() delivered ${chunks.length} chunk(s)`);
assert.equal(chunks.join(''), LINE.repeat(LINES));
console.log('proc ok');

const f = openString('3 4.5\nname: Ada\n');
assert.deepEqual(f.read('n', 'n'), [3, 4.5]);
f.read('l');
assert.equal(f.read('l'), 'name: Ada');
console.log('strfile ok');
console.log('smoke ok');
