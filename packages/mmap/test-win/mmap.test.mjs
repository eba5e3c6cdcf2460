// The Windows suite of @luaipc/mmap (node:test, run under Wine by scripts/test-win.mjs against
// the win32-x64 prebuild): the core behaviours and errors of the Linux suite, and what Windows
// does differently (pagesize is the allocation granularity; a mapped file cannot be truncated).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { IpcError, MAX_SIZE, open, pagesize } from '../dist/index.mjs';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const dir = mkdtempSync(join(tmpdir(), 'luaipc-mmap-win-'));
async function collect() {
  for (let i = 0; i < 5; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
}
// Windows cannot remove a file while a view of it is mapped: collect the Buffers first.
after(async () => {
  await collect();
  rmSync(dir, { recursive: true, force: true });
});
let counter = 0;
const file = (content) => {
  const path = join(dir, `f-${++counter}.txt`);
  writeFileSync(path, content);
  return path;
};
const isIpc = (code, syscall, path) => (e) =>
  e instanceof IpcError &&
  e.name === 'IpcError' &&
  e.code === code &&
  (syscall === undefined || e.syscall === syscall) &&
  (path === undefined || e.path === path);

test('pagesize is the allocation granularity', () => {
  assert.equal(pagesize, 65536);
  assert.equal(MAX_SIZE, 2 ** 32);
});

test("'r': reads, lines, refuses writes; buffer writes are copy-on-write and never reach the file", () => {
  const path = file('one\ntwo\nthree\n');
  const h = open(path);
  assert.deepEqual([h.mode, h.offset, h.size()], ['r', 0, 14]);
  assert.deepEqual([...h.lines()], ['one', 'two', 'three']);
  assert.throws(() => h.write('x'), isIpc('EBADF', 'write'));
  const other = open(path, 'r');
  h.buffer.write('ONE', 0);
  h.seek('set');
  assert.equal(h.read('l'), 'ONE');
  assert.equal(other.read('l'), 'one');
  assert.equal(typeof h.addr(), 'bigint');
  h.flush();
  h.close();
  other.close();
  assert.equal(readFileSync(path, 'utf8'), 'one\ntwo\nthree\n');
});

test("'rw' and 'w': writes reach the file; a 'w' handle refuses reads", () => {
  const path = file('0123456789\n');
  const rw = open(path, 'rw');
  rw.write('abc');
  rw.buffer.write('Z', 9);
  assert.equal(rw.flush(), rw);
  assert.equal(readFileSync(path, 'utf8'), 'abc345678Z\n');
  rw.close();
  const w = open(path, 'w');
  assert.throws(() => w.read(), isIpc('EBADF', 'read'));
  w.write('9876543210');
  w.close();
  assert.equal(readFileSync(path, 'utf8'), '9876543210\n');
});

test("LuaIPC's mmapcat: lines(10) over this file reproduces it; a write on an 'r' map is refused", () => {
  const self = new URL(import.meta.url);
  const mem = open(self, 'r', { encoding: 'buffer' });
  assert.throws(() => mem.write('xxx'), isIpc('EBADF', 'write'));
  assert.deepEqual(Buffer.concat([...mem.lines(10)]), readFileSync(self));
  mem.close();
});

test("LuaIPC's mmaprev: a 'w' map at offset pagesize reverses the digits", () => {
  const spaces = ' '.repeat(pagesize);
  const path = file(`${spaces}${'0123456789'.repeat(3)}\n`);
  const mem = open(path, 'w', pagesize);
  assert.equal(mem.size(), 31);
  for (let i = 0; i < 3; i++) mem.write('9876543210');
  mem.close();
  assert.equal(readFileSync(path, 'latin1'), `${spaces}${'9876543210'.repeat(3)}\n`);
});

test('offsets: multiples of 65536; past EOF, zero-length, ranges past EOF are EINVAL', () => {
  const path = file(Buffer.alloc(3 * pagesize, 'x'));
  assert.throws(() => open(path, 'r', 4096), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  const h = open(path, 'r', pagesize, 10);
  assert.equal(h.read('a'), 'x'.repeat(10));
  h.close();
  for (const args of [
    [path, 'r', 3 * pagesize],
    [path, 'r', 0, 3 * pagesize + 1],
    [file(''), 'r'],
  ]) {
    assert.throws(() => open(...args), isIpc('EINVAL', 'mmap', args[0]));
  }
  assert.throws(() => open(join(dir, 'missing')), isIpc('ENOENT', 'CreateFile'));
  assert.throws(() => open(dir), isIpc('EISDIR', 'open', dir));
  assert.throws(() => open('NUL', 'r', 0, 10), isIpc('ENODEV', 'mmap'));
  // Paths as node:fs takes them.
  for (const given of [Buffer.from(path), pathToFileURL(path)]) open(given).close();
});

test('offsets past 4 GiB in a sparse file', () => {
  const path = join(dir, 'sparse.bin');
  const fd = openSync(path, 'w+');
  ftruncateSync(fd, 2 ** 32 + 2 * pagesize);
  writeSync(fd, 'at 4 GiB\n', 2 ** 32);
  closeSync(fd);
  const h = open(path, 'rw', 2 ** 32);
  assert.equal(h.read('l'), 'at 4 GiB');
  h.seek('set', pagesize);
  h.write('a page further');
  h.flush();
  h.close();
  const check = openSync(path, 'r');
  const buf = Buffer.alloc(14);
  readSync(check, buf, 0, 14, 2 ** 32 + pagesize);
  closeSync(check);
  assert.equal(buf.toString(), 'a page further');
  assert.throws(() => open(path), isIpc('EFBIG', 'mmap', path));
});

test('Windows refuses to truncate a mapped file; once the mapping is gone it may', async () => {
  const path = file('x'.repeat(3 * pagesize));
  let h = open(path, 'rw');
  let buf = h.buffer;
  // ERROR_USER_MAPPED_FILE, which libuv has no name for.
  const refused = { code: 'UNKNOWN', syscall: 'ftruncate' };
  assert.throws(() => truncateSync(path, 10), refused);
  // Still all there, no fault.
  assert.equal(buf[3 * pagesize - 1], 0x78);
  assert.equal(h.read(3), 'xxx');
  h.close();
  // The Buffer taken before close keeps the view (and so the refusal).
  assert.equal(buf[0], 0x78);
  assert.throws(() => truncateSync(path, 10), refused);
  h = null;
  buf = null;
  await collect();
  truncateSync(path, 10);
  assert.equal(readFileSync(path, 'utf8'), 'x'.repeat(10));
});

test('close() of a handle whose buffer was never taken unmaps the file at once', () => {
  // The mapping is gone in close() itself (no collection needed): Windows lets the file be
  // truncated and removed right after, even after lines() read it all.
  const path = file('line\n'.repeat(3 * pagesize));
  const h = open(path, 'rw');
  let lines = 0;
  for (const _ of h.lines()) lines++;
  assert.equal(lines, 3 * pagesize);
  assert.throws(() => truncateSync(path, 10), { code: 'UNKNOWN', syscall: 'ftruncate' });
  h.close();
  truncateSync(path, 10);
  rmSync(path);
});

test('a Buffer taken before close stays valid; the handle refuses use', () => {
  const h = open(file('abc\n'), 'rw');
  const buf = h.buffer;
  h.close();
  assert.equal(buf.toString('latin1', 0, 3), 'abc');
  buf[0] = 0x41;
  assert.throws(() => h.read(), { code: 'ERR_IPC_CLOSED' });
  assert.throws(() => h.buffer, { code: 'ERR_IPC_CLOSED' });
  assert.throws(() => h.addr(), { code: 'ERR_IPC_CLOSED' });
});

test('two node.exe processes meet on one file', async () => {
  const path = file(Buffer.alloc(64));
  const h = open(path, 'rw');
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { open } from ${JSON.stringify(new URL('../dist/index.mjs', import.meta.url).href)};
       const m = open(${JSON.stringify(path)}, 'rw'); m.write('from the child'); m.close();`,
    ],
    { stdio: 'ignore' },
  );
  assert.equal(await new Promise((resolve) => child.on('exit', resolve)), 0);
  assert.equal(h.read(14), 'from the child');
  h.close();
});
