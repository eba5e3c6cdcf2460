// The Windows suite of @luaipc/channel (node:test, run under Wine by scripts/test-win.mjs against
// the win32-x64 prebuild): the core behaviours of the Linux suite on the Windows backend (a
// paging-file section, named mutexes for liveness, named events for doorbells, Promise-form
// waits on threads of ours).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { connect, create, IpcError, unlink } from '../dist/index.mjs';

let counter = 0;
const unique = (tag) => `lx-win-${tag}-${process.pid}-${++counter}`;
const dist = JSON.stringify(new URL('../dist/index.mjs', import.meta.url).href);

test('messages arrive whole and in order; the ring wraps; bad sizes and names as on Linux', async () => {
  const name = unique('basic');
  const rx = create(name, { capacity: 4096, encoding: 'utf8' });
  const tx = connect(name);
  assert.equal(rx.capacity, 4096);
  assert.equal(tx.maxMessage, 4092);
  for (let i = 0; i < 2000; i++) {
    assert.equal(tx.trySend(`message ${i} ${'é'.repeat(i % 50)}`), true);
    assert.equal(rx.tryReceive(), `message ${i} ${'é'.repeat(i % 50)}`);
  }
  assert.equal(tx.trySend(''), true);
  assert.equal(rx.tryReceive(), '');
  assert.equal(rx.tryReceive(), null);
  assert.throws(() => tx.trySend(Buffer.alloc(4093)), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => tx.trySend(42), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => create('a/b'), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(
    () => create(name),
    (e) => e instanceof IpcError && e.code === 'EEXIST',
  );
  assert.throws(
    () => connect(unique('missing')),
    (e) => e instanceof IpcError && e.code === 'ENOENT' && e.winerror === 2,
  );
  tx.close();
  rx.close();
  assert.throws(() => rx.tryReceive(), { code: 'ERR_IPC_CLOSED' });
  assert.throws(() => tx.trySend('x'), { code: 'ERR_IPC_CLOSED' });
  // The section goes with its last view, which close() lets go of by the next turn (no GC).
  await new Promise((resolve) => setImmediate(resolve));
  assert.throws(() => unlink(name), { code: 'ENOENT' });
});

test('a Promise receive is woken by a send; timeouts give null; abort and close reject', async () => {
  const name = unique('wait');
  const rx = create(name, { encoding: 'utf8' });
  const tx = connect(name);
  const t0 = Date.now();
  assert.equal(await rx.receive(0.2), null);
  assert.ok(Date.now() - t0 >= 150);
  assert.equal(rx.receiveSync(0.1), null);
  const pending = rx.receive();
  setTimeout(() => tx.trySend('woken'), 50);
  assert.equal(await pending, 'woken');
  const ac = new AbortController();
  const aborted = rx.receive({ signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(aborted, { name: 'AbortError' });
  const closing = rx.receive();
  rx.close();
  await assert.rejects(closing, { code: 'ECANCELED' });
  assert.throws(() => tx.trySend('x'), { code: 'EPIPE' });
  tx.close();
});

test('a send waiting for room goes out when the receiver takes; sendSync times out', async () => {
  const name = unique('room');
  const rx = create(name, { capacity: 4096 });
  const tx = connect(name);
  while (tx.trySend(''));
  assert.equal(tx.sendSync('x', 0.1), false);
  assert.equal(await tx.send('x', 0.1), false);
  const waiting = tx.send('last');
  setTimeout(() => rx.tryReceive(), 50);
  assert.equal(await waiting, true);
  tx.close();
  rx.close();
});

test('senders come and go: a closed one and a terminated worker free their slots', async () => {
  const name = unique('slots');
  const rx = create(name, { maxSenders: 2 });
  const a = connect(name);
  const worker = new Worker(
    // The interval keeps the worker running until it is terminated: a worker whose event loop
    // ended would leave on its own, and its slot with it.
    `import(${dist}).then((c) => { globalThis.tx = c.connect(${JSON.stringify(name)}); require('node:worker_threads').parentPort.postMessage('in'); setInterval(() => {}, 1 << 30); });`,
    { eval: true },
  );
  await new Promise((resolve) => worker.once('message', resolve));
  assert.equal(rx.senders, 2);
  assert.throws(() => connect(name), { code: 'EAGAIN' });
  await worker.terminate();
  // Windows abandons the mutexes of a thread that ended: the worker's slot is free.
  assert.equal(rx.senders, 1);
  a.close();
  assert.equal(rx.senders, 0);
  const b = connect(name);
  const c = connect(name);
  b.close();
  c.close();
  rx.close();
});

test('two node.exe processes: every message of the child arrives, in order', async () => {
  const name = unique('procs');
  const rx = create(name, { capacity: 8192, encoding: 'utf8' });
  const count = 3000;
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { connect } from ${dist};
       const tx = connect(${JSON.stringify(name)});
       for (let i = 0; i < ${count}; i++) { const m = 'm' + i; if (!tx.trySend(m)) await tx.send(m); }
       tx.close();`,
    ],
    { stdio: 'ignore' },
  );
  // Listened for now: the child may exit while the last messages are still being received.
  const exited = new Promise((resolve) => child.on('exit', resolve));
  for (let i = 0; i < count; i++) assert.equal(await rx.receive(30), `m${i}`);
  assert.equal(await exited, 0);
  assert.equal(rx.senders, 0);
  rx.close();
});

test('a receiver process that is killed: a waiting send rejects with EPIPE', async () => {
  const name = unique('rxkill');
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { create } from ${dist};
       globalThis.rx = create(${JSON.stringify(name)}, { capacity: 4096 });
       console.log('ready');
       setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  await new Promise((resolve) => child.stdout.once('data', resolve));
  const tx = connect(name);
  while (tx.trySend(''));
  const pending = tx.send('x');
  child.kill();
  await assert.rejects(pending, { code: 'EPIPE' });
  tx.close();
});

test('a lock or doorbell that Windows refuses is an IpcError with the Win32 code and call', async () => {
  // Kernel objects share one namespace per session: the section of channel `<name>.lock1` holds
  // the name of channel <name>'s receiver lock (a mutex, LOCK_RECEIVER is byte 1), and the
  // section of `<name>.rx` that of its doorbell (an event). Windows refuses to make an object
  // under a name another type holds (ERROR_INVALID_HANDLE, 6).
  const refused = (name, syscall) => (e) =>
    e instanceof IpcError &&
    e.code === 'EBADF' &&
    e.syscall === syscall &&
    e.winerror === 6 &&
    e.path === name;
  const first = unique('clash-lock');
  const lockTaken = create(`${first}.lock1`);
  assert.throws(() => create(first), refused(first, 'CreateMutexW'));
  const second = unique('clash-bell');
  const bellTaken = create(`${second}.rx`);
  assert.throws(() => create(second), refused(second, 'CreateEventW'));
  lockTaken.close();
  bellTaken.close();
  // The failed creates left nothing behind: the names work once the other objects are gone.
  await new Promise((resolve) => setImmediate(resolve));
  create(first).close();
  create(second).close();
});
