// The Windows suite of @luaipc/shm (node:test, run under Wine by scripts/test-win.mjs against
// the win32-x64 prebuild): the core behaviours and errors of the Linux suite.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { attach, create, IpcError, unlink } from '../dist/index.mjs';

let counter = 0;
const unique = (tag) => `lx-win-${tag}-${process.pid}-${++counter}`;

test('create and attach share bytes; attach sees the size rounded to pages', () => {
  const name = unique('share');
  const a = create(name, 100);
  assert.equal(a.size(), 100);
  const b = attach(name);
  assert.equal(b.size(), 4096, 'Windows reports whole pages, as LuaIPC says');
  b.truncate(100); // the parties agree on the real size, as LuaIPC's reference says
  a.write('hello\nworld\n');
  assert.equal(b.read('l'), 'hello');
  assert.equal(b.read('l'), 'world');
  b.buffer[0] = 0x48;
  assert.equal(a.buffer.subarray(0, 5).toString(), 'Hello');
  a.write(new Uint16Array([0x4241]));
  assert.equal(b.buffer.subarray(12, 14).toString(), 'AB');
  assert.equal(typeof a.addr(), 'bigint');
  a.close();
  b.close();
});

test('EEXIST, ENOENT and bad input as on Linux', () => {
  const name = unique('err');
  const a = create(name, 10);
  assert.throws(
    () => create(name, 10),
    (e) =>
      e instanceof IpcError &&
      e.name === 'IpcError' &&
      e.code === 'EEXIST' &&
      e.path === name &&
      e.winerror === 183,
  );
  a.close();
  const missing = unique('missing');
  assert.throws(
    () => attach(missing),
    (e) => e.code === 'ENOENT' && e.path === missing,
  );
  assert.throws(() => unlink(missing), { code: 'ENOENT' });
  assert.throws(() => create('a/b', 1), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => create(name, 0), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => create(42, 1), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('a Buffer taken before close stays valid; the handle refuses use', () => {
  const h = create(unique('close'), 16);
  const buf = h.buffer;
  h.write('abc');
  h.close();
  assert.equal(buf.subarray(0, 3).toString(), 'abc');
  assert.throws(() => h.read(), { code: 'ERR_IPC_CLOSED' });
  assert.throws(() => h.buffer, { code: 'ERR_IPC_CLOSED' });
});

test('close() of handles whose buffer was never taken ends the section at once', () => {
  // A section lives while a handle or a view of it is open: with both handles closed, and no
  // collection, the name is gone.
  const name = unique('gone');
  const h = create(name, 1 << 20);
  h.write('x'.repeat(1000), '\n');
  const a = attach(name);
  assert.equal(a.read('l').length, 1000);
  a.close();
  h.close();
  assert.throws(
    () => attach(name),
    (e) => e instanceof IpcError && e.code === 'ENOENT',
  );
});

test('two node.exe processes meet on one segment', async () => {
  const name = unique('procs');
  const h = create(name, 64);
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { attach } from ${JSON.stringify(new URL('../dist/index.mjs', import.meta.url).href)};
       const s = attach(${JSON.stringify(name)}); s.write('from the child'); s.close();`,
    ],
    { stdio: 'ignore' },
  );
  assert.equal(await new Promise((resolve) => child.on('exit', resolve)), 0);
  assert.equal(h.read(14), 'from the child');
  h.close();
});
