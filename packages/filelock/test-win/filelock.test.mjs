// The Windows suite of @luaipc/filelock (node:test, run under Wine by scripts/test-win.mjs against
// the win32-x64 prebuild): locks between node.exe processes, waits, cancellation and errors, and
// the Windows semantics the README documents (mandatory locks, no conversion, exact-range unlock).
import assert from 'node:assert/strict';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { cleanup, startChild } from '@luaipc/testing';
import { IpcError, lock, lockSync, OFD_LOCKS, trylock, unlock } from '../dist/index.mjs';

// Wine runs this suite; two Windows behaviours it does not reproduce are asserted on Windows only.
const underWine = existsSync('C:\\windows\\system32\\winecfg.exe');
const notUnderWine = (what) => (underWine ? `Wine does not ${what}` : false);

const dir = mkdtempSync(join(tmpdir(), 'luaipc-filelock-'));
after(() => rmSync(dir, { recursive: true, force: true }));
// A peer a failing test left running is killed.
afterEach(cleanup);
let counter = 0;
/** A fresh 64-byte file. */
function tempFile() {
  const path = join(dir, `lock-${++counter}`);
  writeFileSync(path, 'x'.repeat(64));
  return path;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const peerScript = fileURLToPath(new URL('./fixtures/peer.mjs', import.meta.url));

/** Another node.exe holding locks on `path` (fixtures/peer.mjs): `await peer.send('try w 0 0')`. */
async function startPeer(path) {
  const peer = startChild(process.execPath, [peerScript, path]);
  assert.equal(await peer.next(), 'ready');
  return peer;
}

/** Ends a peer with its `exit` command; it must exit 0. */
async function exitPeer(peer) {
  peer.write('exit\n');
  assert.equal((await peer.done).code, 0);
}

/** Whether `promise` is still pending after `ms` ms. */
async function pendingAfter(promise, ms) {
  const marker = Symbol('pending');
  return (await Promise.race([promise, sleep(ms).then(() => marker)])) === marker;
}

test('OFD_LOCKS is true: locks belong to the open file, as with open-file-description locks', () => {
  assert.equal(OFD_LOCKS, true);
  const path = tempFile();
  const a = openSync(path, 'r+');
  const b = openSync(path, 'r+');
  assert.equal(trylock(a, 'w', 0, 10), true);
  assert.equal(trylock(b, 'r', 0, 10), false, 'a second open of the file is another owner');
  assert.equal(trylock(b, 'w', 10, 10), true, 'the next bytes are free');
  closeSync(b);
  const c = openSync(path, 'r+');
  assert.equal(trylock(c, 'r', 0, 10), false, "closing another descriptor kept a's lock");
  closeSync(a);
  closeSync(c);
});

test('shared and exclusive locks between two node.exe processes', async () => {
  const path = tempFile();
  const fd = openSync(path, 'r+');
  const peer = await startPeer(path);
  assert.equal(await peer.send('try w 0 10'), 'true');
  assert.equal(trylock(fd, 'r', 0, 10), false);
  assert.equal(trylock(fd, 'w', 5, 1), false);
  assert.equal(trylock(fd, 'w', 10, 10), true, 'the bytes after the range are free');
  assert.equal(await peer.send('try r 10 1'), 'false');
  unlock(fd, 10, 10);
  assert.equal(await peer.send('unlock 0 10'), 'unlocked');

  assert.equal(await peer.send('try r 0 10'), 'true');
  assert.equal(trylock(fd, 'r', 0, 10), true, "'r' locks are shared");
  assert.equal(trylock(fd, 'w', 0, 1), false);
  assert.equal(await peer.send('try w 0 10'), 'false');
  unlock(fd, 0, 10);
  assert.equal(await peer.send('unlock 0 10'), 'unlocked');

  // nbytes 0: from the offset to the end of the file and beyond.
  assert.equal(await peer.send('try w 100 0'), 'true');
  assert.equal(trylock(fd, 'r', 2 ** 40, 1), false);
  assert.equal(trylock(fd, 'r', Number.MAX_SAFE_INTEGER - 1, 1), false);
  assert.equal(trylock(fd, 'w', 0, 100), true, 'the bytes before the offset are free');
  unlock(fd, 0, 100);
  assert.equal(await peer.send('unlock 100 0'), 'unlocked');
  assert.equal(trylock(fd, 'w'), true, 'the whole file, once nobody holds any of it');
  assert.equal(await peer.send('try r 7 1'), 'false');
  unlock(fd);
  await exitPeer(peer);
  closeSync(fd);
});

test('lock() waits and resolves when the holder releases; lockSync too', async () => {
  const path = tempFile();
  const fd = openSync(path, 'r+');
  const peer = await startPeer(path);
  assert.equal(await peer.send('lock w 0 0'), 'locked');
  const pending = lock(fd, 'w', 0, 10);
  assert.equal(await pendingAfter(pending, 300), true, 'waits while the peer holds the file');
  assert.equal(await peer.send('unlock 0 0'), 'unlocked');
  assert.equal(await pending, true);
  assert.equal(await peer.send('try r 5 1'), 'false', 'now this process holds it');
  unlock(fd, 0, 10);
  assert.equal(await peer.send('try w 0 10'), 'true');
  assert.equal(await peer.send('unlock 0 10'), 'unlocked');

  // lockSync with a timeout, granted when the peer lets go after 300 ms.
  assert.equal(await peer.send('hold w 0 0 300'), 'locked');
  const t0 = Date.now();
  assert.equal(lockSync(fd, 'r', 0, 10, { timeout: 20 }), true);
  assert.ok(Date.now() - t0 >= 200, 'lockSync waited for the holder');
  unlock(fd, 0, 10);
  await exitPeer(peer);
  closeSync(fd);
});

test('a wait that locks through its own duplicate is undone by unlock() on the descriptor', async () => {
  const path = tempFile();
  const fd = openSync(path, 'r+');
  const peer = await startPeer(path);
  assert.equal(await peer.send('lock w 0 0'), 'locked');
  const pending = lock(fd, 'w');
  await sleep(100);
  assert.equal(await peer.send('unlock 0 0'), 'unlocked');
  assert.equal(await pending, true);
  assert.equal(await peer.send('try r 0 1'), 'false');
  unlock(fd);
  assert.equal(await peer.send('try w 0 0'), 'true', 'the duplicate was the same owner');
  await exitPeer(peer);
  closeSync(fd);
});

test('timeouts give false', async () => {
  const path = tempFile();
  const fd = openSync(path, 'r+');
  const peer = await startPeer(path);
  assert.equal(await peer.send('lock r 0 0'), 'locked');
  let t0 = Date.now();
  assert.equal(await lock(fd, 'w', { timeout: 0.3 }), false);
  assert.ok(Date.now() - t0 >= 250, 'lock() waited for its timeout');
  t0 = Date.now();
  assert.equal(lockSync(fd, 'w', 0, 10, { timeout: 0.3 }), false);
  assert.ok(Date.now() - t0 >= 250, 'lockSync waited for its timeout');
  assert.equal(await lock(fd, 'w', 0, 10, { timeout: 0 }), false);
  assert.equal(await lock(fd, 'r', 0, 10, { timeout: 0.3 }), true, "'r' joins the peer's 'r'");
  unlock(fd, 0, 10);
  assert.equal(await peer.send('unlock 0 0'), 'unlocked');
  assert.equal(await peer.send('try w 0 0'), 'true', 'the timed-out waits took nothing');
  await exitPeer(peer);
  closeSync(fd);
});

test('an AbortSignal rejects a pending lock() and leaves no lock behind', async () => {
  const path = tempFile();
  const fd = openSync(path, 'r+');
  const peer = await startPeer(path);
  assert.equal(await peer.send('lock w 0 0'), 'locked');
  const controller = new AbortController();
  const pending = lock(fd, 'w', { signal: controller.signal });
  setTimeout(() => controller.abort(), 100);
  await assert.rejects(pending, { name: 'AbortError' });
  const already = lock(fd, 'w', { signal: AbortSignal.abort(new Error('before')) });
  await assert.rejects(already, { message: 'before' });
  assert.equal(await peer.send('unlock 0 0'), 'unlocked');
  await sleep(300);
  assert.equal(await peer.send('try w 0 0'), 'true', 'the aborted wait took nothing');
  await exitPeer(peer);
  closeSync(fd);
});

test('closing a FileHandle cancels its pending lock() with ECANCELED', async () => {
  const path = tempFile();
  const handle = await open(path, 'r+');
  const peer = await startPeer(path);
  assert.equal(await peer.send('lock w 0 0'), 'locked');
  const pending = lock(handle, 'r', 0, 10);
  assert.equal(await pendingAfter(pending, 100), true);
  await handle.close();
  await assert.rejects(
    pending,
    (e) => e instanceof IpcError && e.code === 'ECANCELED' && e.syscall === 'fcntl',
  );
  assert.equal(await peer.send('unlock 0 0'), 'unlocked');
  await sleep(300);
  assert.equal(await peer.send('try w 0 0'), 'true', 'the cancelled wait took nothing');
  await assert.rejects(lock(handle, 'w'), { name: 'IpcError', code: 'EBADF' });
  await exitPeer(peer);
});

test('closing the descriptor number rejects a pending lock() with ECANCELED; nothing stays held', async () => {
  const path = tempFile();
  const peer = await startPeer(path);
  assert.equal(await peer.send('lock w 0 0'), 'locked');
  const settle = (p) => p.then(String, (e) => e.code);
  // The holder keeps its lock: the wait notices the close at its next check.
  let fd = openSync(path, 'r+');
  let pending = settle(lock(fd, 'w'));
  await sleep(100);
  closeSync(fd);
  assert.equal(await Promise.race([pending, sleep(10_000).then(() => 'pending')]), 'ECANCELED');
  // The holder lets go right after the close: the wait may be granted first, and gives it back.
  for (const mode of ['w', 'r']) {
    fd = openSync(path, 'r+');
    pending = settle(lock(fd, mode));
    await sleep(100);
    closeSync(fd);
    assert.equal(await peer.send('unlock 0 0'), 'unlocked');
    assert.equal(await pending, 'ECANCELED');
    await sleep(300);
    assert.equal(await peer.send('try w 0 0'), 'true', `the cancelled '${mode}' wait took nothing`);
  }
  // The number reused for a new open of the same file: another open file, so ECANCELED too.
  fd = openSync(path, 'r+');
  pending = settle(lock(fd, 'w'));
  await sleep(100);
  closeSync(fd);
  const reopened = openSync(path, 'r+');
  assert.equal(reopened, fd);
  assert.equal(await peer.send('unlock 0 0'), 'unlocked');
  assert.equal(await pending, 'ECANCELED');
  await sleep(300);
  assert.equal(await peer.send('try w 0 0'), 'true', 'the new descriptor holds nothing');
  assert.equal(await peer.send('unlock 0 0'), 'unlocked');
  closeSync(reopened);
  await exitPeer(peer);
});

test("closing the descriptor number ends a worker's pending lockSync with ECANCELED", async () => {
  const path = tempFile();
  const peer = await startPeer(path);
  assert.equal(await peer.send('lock w 0 0'), 'locked');
  const fd = openSync(path, 'r+');
  const dist = fileURLToPath(new URL('../dist/index.cjs', import.meta.url));
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const { lockSync } = require(workerData.dist);
     parentPort.postMessage('blocking');
     try { parentPort.postMessage(String(lockSync(workerData.fd, 'w'))); }
     catch (e) { parentPort.postMessage(e.code); }`,
    { eval: true, workerData: { dist, fd } },
  );
  const messages = [];
  worker.on('message', (m) => messages.push(m));
  const exited = new Promise((resolve) => worker.on('exit', resolve));
  // A worker takes a while to start under Wine on a loaded machine.
  for (let i = 0; i < 300 && messages.length === 0; i++) await sleep(50);
  await sleep(300); // inside lockSync by now
  assert.deepEqual(messages, ['blocking']);
  closeSync(fd);
  for (let i = 0; i < 100 && messages.length < 2; i++) await sleep(50);
  assert.deepEqual(messages, ['blocking', 'ECANCELED'], 'noticed while the holder still holds');
  await exited;
  assert.equal(await peer.send('unlock 0 0'), 'unlocked');
  assert.equal(await peer.send('try w 0 0'), 'true');
  await exitPeer(peer);
});

test('worker threads that open the file exclude each other; terminate() ends a pending lockSync', async () => {
  const path = tempFile();
  const fd = openSync(path, 'r+');
  assert.equal(trylock(fd, 'w', 0, 10), true);
  const dist = fileURLToPath(new URL('../dist/index.cjs', import.meta.url));
  const worker = new Worker(
    `const { openSync } = require('node:fs');
     const { parentPort, workerData } = require('node:worker_threads');
     const { lockSync, trylock } = require(workerData.dist);
     const fd = openSync(workerData.path, 'r+');
     parentPort.postMessage(trylock(fd, 'r', 0, 10));
     parentPort.postMessage(lockSync(fd, 'w', 0, 10));`,
    { eval: true, workerData: { dist, path } },
  );
  const messages = [];
  worker.on('message', (m) => messages.push(m));
  const exited = new Promise((resolve) => worker.on('exit', resolve));
  // A worker takes a while to start under Wine on a loaded machine.
  for (let i = 0; i < 300 && messages.length === 0; i++) await sleep(50);
  await sleep(300); // inside lockSync by now
  assert.deepEqual(messages, [false], "the worker's own descriptor is another owner: it waits");
  const t0 = Date.now();
  await worker.terminate();
  await exited;
  assert.ok(Date.now() - t0 < 2000, 'terminate() ended the pending lockSync promptly');
  unlock(fd, 0, 10);
  const again = openSync(path, 'r+');
  assert.equal(trylock(again, 'w', 0, 10), true, 'the ended wait took nothing');
  // A message the worker still sent while it was being stopped can only say it got nothing.
  assert.equal(messages.includes(true), false);
  closeSync(again);
  closeSync(fd);
});

test("no conversion: a handle's own locks and the other mode", async () => {
  const path = tempFile();
  const fd = openSync(path, 'r+');
  const peer = await startPeer(path);
  // 'w' over your own 'r' is refused: an exclusive lock conflicts with every lock, yours too.
  assert.equal(trylock(fd, 'r', 0, 10), true);
  assert.equal(trylock(fd, 'w', 0, 10), false);
  assert.equal(await lock(fd, 'w', 0, 10, { timeout: 0.2 }), false);
  assert.equal(lockSync(fd, 'w', 0, 10, { timeout: 0.2 }), false);
  unlock(fd, 0, 10);
  // 'w' over your own 'w' too.
  assert.equal(trylock(fd, 'w', 0, 10), true);
  assert.equal(trylock(fd, 'w', 0, 10), false);
  // 'r' over your own 'w' is granted and stacks: the 'w' stays, other processes stay out.
  assert.equal(trylock(fd, 'r', 0, 10), true);
  assert.equal(await peer.send('try r 0 10'), 'false');
  // One unlock of the range releases both.
  unlock(fd, 0, 10);
  assert.equal(await peer.send('try w 0 10'), 'true');
  assert.equal(await peer.send('unlock 0 10'), 'unlocked');
  await exitPeer(peer);
  closeSync(fd);
});

test('unlock() releases only a lock taken on exactly that range', async () => {
  const path = tempFile();
  const fd = openSync(path, 'r+');
  const peer = await startPeer(path);
  assert.equal(trylock(fd, 'w', 0, 10), true);
  unlock(fd); // the whole file: no lock has exactly that range, nothing happens
  unlock(fd, 0, 5); // part of the range: the same
  unlock(fd, 20, 5); // bytes never locked: nothing happens, as on Linux
  assert.equal(await peer.send('try r 0 1'), 'false');
  unlock(fd, 0, 10);
  assert.equal(await peer.send('try w 0 10'), 'true');
  await exitPeer(peer);
  closeSync(fd);
});

test('locks are mandatory: another process cannot write into a locked range', {
  skip: notUnderWine('enforce locks on reads and writes'),
}, async () => {
  const path = tempFile();
  const fd = openSync(path, 'r+');
  const peer = await startPeer(path);
  assert.equal(trylock(fd, 'w', 0, 10), true);
  assert.match(await peer.send('write 5 zz'), /^error /);
  assert.match(await peer.send('read 0 4'), /^error /);
  assert.equal(await peer.send('write 20 zz'), 'written', 'outside the range it works');
  writeSync(fd, 'ab', 0); // the holder itself may write
  unlock(fd, 0, 10);
  assert.equal(trylock(fd, 'r', 0, 10), true);
  assert.match(await peer.send('write 5 zz'), /^error /, "an 'r' lock stops writers too");
  assert.equal(await peer.send('read 0 2'), 'ab', 'but not readers');
  unlock(fd, 0, 10);
  await exitPeer(peer);
  closeSync(fd);
});

test('an OS error carries the Win32 code as winerror', {
  skip: notUnderWine('check access rights on locks'),
}, () => {
  const path = tempFile();
  const fd = openSync(path, 'a'); // append only: neither read nor write access to the data
  assert.throws(
    () => trylock(fd, 'w', 0, 10),
    (e) =>
      e instanceof IpcError &&
      e.name === 'IpcError' &&
      e.code === 'EACCES' &&
      e.syscall === 'fcntl' &&
      e.winerror === 5,
  );
  closeSync(fd);
});

test('EBADF for a closed descriptor and for what is not a regular file', async () => {
  const fd = openSync(tempFile(), 'r+');
  assert.equal(trylock(fd, 'w', 0, 1), true);
  unlock(fd, 0, 1);
  closeSync(fd);
  const ebadf = (e) =>
    e instanceof IpcError &&
    e.name === 'IpcError' &&
    e.code === 'EBADF' &&
    e.syscall === 'fcntl' &&
    e.winerror === undefined &&
    e.message === 'EBADF: bad file descriptor, fcntl';
  assert.throws(() => trylock(fd, 'w'), ebadf);
  assert.throws(() => lockSync(fd, 'r', { timeout: 1 }), ebadf);
  assert.throws(() => unlock(fd), ebadf);
  await assert.rejects(lock(fd, 'w'), ebadf);
  const folder = openSync(dir, 'r');
  // Says why, and where (the path the system gives for the descriptor).
  assert.throws(
    () => trylock(folder, 'r'),
    (e) =>
      e instanceof IpcError &&
      e.code === 'EBADF' &&
      e.syscall === 'fcntl' &&
      e.path?.toLowerCase() === dir.toLowerCase() &&
      e.message ===
        `EBADF: descriptor ${folder} is a directory, not a regular file, fcntl '${e.path}'`,
  );
  unlock(folder); // nothing can be locked there, so unlocking does nothing, as on Linux
  closeSync(folder);
});

test('bad input gives the same errors as on Linux', async () => {
  const fd = openSync(tempFile(), 'r+');
  assert.throws(() => trylock('3', 'w'), {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_TYPE',
    message:
      'The "file" argument must be of type number or an instance of FileHandle. Received type string (\'3\')',
  });
  assert.throws(() => trylock(-1, 'w'), {
    name: 'RangeError',
    code: 'ERR_OUT_OF_RANGE',
    message:
      'The value of "file" is out of range. It must be an integer >= 0 and <= 2147483647. Received -1',
  });
  assert.throws(() => trylock(fd, 'x'), {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_VALUE',
    message: "The argument 'mode' must be 'r' (shared) or 'w' (exclusive). Received 'x'",
  });
  assert.throws(() => trylock(fd, 'w', -1), {
    name: 'RangeError',
    code: 'ERR_OUT_OF_RANGE',
    message:
      'The value of "offset" is out of range. It must be an integer >= 0 and <= 9007199254740991. Received -1',
  });
  assert.throws(() => lockSync(fd, 'w', 0, 2 ** 53), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(lock(fd, 'w', 5, 'x'), { code: 'ERR_INVALID_ARG_TYPE' });
  await assert.rejects(lock(fd, 'w', { timeout: Number.NaN }), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(lock(fd, 'w', { signal: 'x' }), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => lockSync(fd, 'w', { signal: new AbortController().signal }), {
    code: 'ERR_INVALID_ARG_VALUE',
  });
  assert.equal(trylock(fd, 'rw', 0, 1), true, "LuaIPC's 'rw' means 'w'");
  unlock(fd, 0, 1);
  closeSync(fd);
});
