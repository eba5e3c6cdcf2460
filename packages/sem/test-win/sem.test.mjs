// The Windows suite of @luaipc/sem (node:test, run under Wine by scripts/test-win.mjs against
// the win32-x64 prebuild): the core behaviours and errors of the Linux suite.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { IpcError, open, SEM_VALUE_MAX, unlink } from '../dist/index.mjs';

let counter = 0;
const unique = (tag) => `lx-win-${tag}-${process.pid}-${++counter}`;

test('creates with n > 0, opens with n absent; EEXIST and ENOENT as on POSIX', () => {
  const name = unique('open');
  const a = open(name, 2);
  const b = open(name);
  assert.equal(b.tryDec(), true);
  assert.equal(a.tryDec(), true);
  assert.equal(a.tryDec(), false);
  assert.throws(
    () => open(name, 1),
    (e) => e instanceof IpcError && e.code === 'EEXIST' && e.path === name,
  );
  const missing = unique('missing');
  assert.throws(
    () => open(missing),
    (e) =>
      e instanceof IpcError &&
      e.name === 'IpcError' &&
      e.code === 'ENOENT' &&
      e.syscall === 'sem_open' &&
      e.path === missing &&
      e.winerror === 2,
  );
  a.close();
  b.close();
});

test('inc wakes a pending dec; timeouts give false; abort rejects', async () => {
  const sem = open(unique('dec'), 1);
  sem.tryDec();
  const t0 = Date.now();
  assert.equal(await sem.dec(0.2), false);
  assert.ok(Date.now() - t0 >= 150);
  assert.equal(sem.decSync(0.1), false);
  const pending = sem.dec();
  setTimeout(() => sem.inc(), 50);
  assert.equal(await pending, true);
  const ac = new AbortController();
  const aborted = sem.dec({ signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(aborted, { name: 'AbortError' });
  sem.inc();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(sem.tryDec(), true, 'the aborted wait gave no count away');
  const closing = sem.dec();
  sem.close();
  await assert.rejects(closing, { code: 'ECANCELED' });
  assert.throws(() => sem.inc(), { code: 'ERR_IPC_CLOSED' });
});

test('EOVERFLOW at SEM_VALUE_MAX', () => {
  const sem = open(unique('max'), SEM_VALUE_MAX);
  assert.throws(() => sem.inc(), { code: 'EOVERFLOW' });
  sem.close();
});

test('bad input gives the same errors as on Linux', () => {
  assert.throws(() => open(42), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => open('a/b', 1), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => open('x', 1.5), { code: 'ERR_OUT_OF_RANGE' });
});

test('unlink: ENOENT for a missing name, no-op for an existing one (no names to remove)', () => {
  const name = unique('unlink');
  assert.throws(() => unlink(name), { code: 'ENOENT' });
  const sem = open(name, 1);
  unlink(name);
  const again = open(name);
  assert.equal(again.tryDec(), true);
  again.close();
  sem.close();
});

test('two node.exe processes meet on one semaphore', async () => {
  const name = unique('procs');
  const sem = open(name, 1);
  sem.tryDec();
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { open } from ${JSON.stringify(new URL('../dist/index.mjs', import.meta.url).href)};
       const s = open(${JSON.stringify(name)}); s.inc(); s.inc(); s.close();`,
    ],
    { stdio: 'ignore' },
  );
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 0);
  assert.equal(await sem.dec(5), true);
  assert.equal(sem.tryDec(), true);
  assert.equal(sem.tryDec(), false);
  sem.close();
});
