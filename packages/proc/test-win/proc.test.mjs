// The Windows suite of @luaipc/proc (node:test, run under Wine by scripts/test-win.mjs against
// the win32-x64 prebuild): real children (cmd.exe, node.exe), exact data and exit triples, and
// the Windows behaviours README's Windows section lists.
import assert from 'node:assert/strict';
import { spawn as cpSpawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EOF, IpcError, spawn } from '../dist/index.mjs';

const node = process.execPath;
// Wine runs this suite; what it does differently from Windows is named where it matters.
const underWine = existsSync('C:\\windows\\system32\\winecfg.exe');
const fixture = (name) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'luaipc-proc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A spawn callback that records what each stream received (as text) and every call. */
function recorder() {
  const text = { stdout: '', stderr: '' };
  const calls = [];
  const callback = (stream, data, ...rest) => {
    calls.push([stream, data, ...rest]);
    if (typeof data === 'string') text[stream] += data;
    else if (Buffer.isBuffer(data)) text[stream] += data.toString('latin1');
  };
  return { text, calls, callback };
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Whether `pid` is gone within `ms` (a terminated process takes a moment to disappear). */
async function goneWithin(pid, ms) {
  const end = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > end) return false;
    await sleep(50);
  }
  return true;
}

/** The first line a tree.cjs child prints: its grandchild's pid. */
function grandchildPid(rec) {
  const line = rec.text.stdout.split('\n')[0];
  const pid = Number(line.trim());
  assert.ok(Number.isInteger(pid) && pid > 0, `a pid, got ${JSON.stringify(rec.text.stdout)}`);
  return pid;
}

async function until(condition, ms, what) {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('a string runs through cmd.exe: echo reaches the callback, then the exit triple', async () => {
  const rec = recorder();
  const p = spawn('echo hello from cmd', { stdout: true, callback: rec.callback });
  assert.ok(Number.isInteger(p.pid) && p.pid > 0);
  assert.deepEqual(p.waitSync(), [true, 'exit', 0]);
  assert.equal(rec.text.stdout, 'hello from cmd\r\n');
  assert.deepEqual(p.waitSync(), [true, 'exit', 0], 'a second wait gives the same');
  assert.deepEqual(await p.wait(), [true, 'exit', 0]);

  // cmd.exe syntax: & chains, %VAR% expands (the string is cmd's, verbatim).
  const chain = recorder();
  const q = spawn('echo one& echo %LUAIPC_WIN_TEST%', {
    stdout: true,
    env: { ...process.env, LUAIPC_WIN_TEST: 'two' },
    callback: chain.callback,
  });
  assert.deepEqual(await q.wait(), [true, 'exit', 0]);
  assert.equal(chain.text.stdout, 'one\r\ntwo\r\n');

  // The argv form finds cmd in PATH. cmd.exe reads its command line its own way, not by the
  // MSVCRT rules: a quoted argument stays quoted (README: use the string form for cmd).
  const argv = recorder();
  const r = spawn(['cmd', '/d', '/c', 'echo', 'argv', 'form'], {
    stdout: true,
    callback: argv.callback,
  });
  assert.deepEqual(r.waitSync(), [true, 'exit', 0]);
  assert.equal(argv.text.stdout, 'argv form\r\n');
  const quoted = recorder();
  spawn(['cmd', '/d', '/c', 'echo', 'two words'], {
    stdout: true,
    callback: quoted.callback,
  }).waitSync();
  assert.equal(quoted.text.stdout, '"two words"\r\n');
});

test('only the string form runs cmd.exe: an argv naming /bin/sh -c looks for /bin/sh', () => {
  // cmd.exe would print Windows_NT; /bin/sh either is not there (ENOENT, or not a Windows
  // program) or, where the system has one, prints %OS% as it is.
  const rec = recorder();
  let result;
  try {
    result = spawn(['/bin/sh', '-c', 'echo %OS%'], {
      stdout: true,
      callback: rec.callback,
    }).waitSync();
  } catch (e) {
    assert.ok(e instanceof IpcError, `an IpcError, got ${e}`);
    assert.equal(e.syscall, 'posix_spawn');
    assert.equal(e.path, '/bin/sh');
    return;
  }
  assert.notEqual(rec.text.stdout, 'Windows_NT\r\n', `cmd.exe ran it (${result})`);
});

test('exit codes: [null, "exit", code] for non-zero, from cmd.exe and from node.exe', async () => {
  assert.deepEqual(spawn('exit 3').waitSync(), [null, 'exit', 3]);
  assert.deepEqual(await spawn('exit 0').wait(), [true, 'exit', 0]);
  assert.deepEqual(spawn([node, '-e', 'process.exit(42)']).waitSync(), [null, 'exit', 42]);
  assert.deepEqual(await spawn([node, '-e', 'process.exitCode = 255']).wait(), [null, 'exit', 255]);
  // 32-bit codes: beyond 2^31 they read as cmd.exe's %ERRORLEVEL% shows them, negative.
  assert.deepEqual(await spawn([node, '-e', 'process.exit(-2)']).wait(), [null, 'exit', -2]);
  // A missing command inside the string is cmd.exe's business: a non-zero status, not ENOENT.
  const rec = recorder();
  const [ok, how, code] = spawn('luaipc-no-such-command', {
    stderr: true,
    callback: rec.callback,
  }).waitSync();
  assert.equal(ok, null);
  assert.equal(how, 'exit');
  assert.notEqual(code, 0);
  assert.notEqual(rec.text.stderr, '');
});

for (const mode of ['waitSync', 'wait']) {
  test(`stdin fed to a node.exe child comes back on stdout (${mode})`, async () => {
    const rec = recorder();
    const p = spawn([node, fixture('echo.cjs')], {
      stdin: true,
      stdout: true,
      callback: rec.callback,
    });
    p.write('hello, ', Buffer.from('wörld\n'), new Uint8Array([0x41, 0x42]), EOF);
    const result = mode === 'waitSync' ? p.waitSync() : await p.wait();
    assert.deepEqual(result, [true, 'exit', 0]);
    assert.equal(rec.text.stdout, 'hello, wörld\nAB');
    assert.throws(() => p.write('more'), { code: 'ERR_STREAM_WRITE_AFTER_END' });
  });

  test(`4 MiB through a node.exe child, in order, without deadlock (${mode})`, async () => {
    const size = 4 * 1024 * 1024;
    const input = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4) input.writeUInt32LE(i / 4, i);
    const chunks = [];
    const p = spawn([node, fixture('echo.cjs')], {
      stdin: true,
      stdout: true,
      encoding: 'buffer',
      callback: (_stream, data) => chunks.push(data),
    });
    // Queued in pieces of odd sizes: the pipe fills long before the child has read it all.
    for (let off = 0; off < size; off += 100_003) p.write(input.subarray(off, off + 100_003));
    p.write(EOF);
    const result = mode === 'waitSync' ? p.waitSync() : await p.wait();
    assert.deepEqual(result, [true, 'exit', 0]);
    const output = Buffer.concat(chunks);
    assert.equal(output.length, size);
    assert.ok(output.equals(input), 'the same bytes in the same order');
  });
}

/** Runs the Linux suite's volume.mjs in a node.exe child (see there) and returns its report. */
async function volume(how, kind, bytes) {
  const script = fileURLToPath(new URL('../test/fixtures/volume.mjs', import.meta.url));
  const rec = recorder();
  const p = spawn([node, script, how, kind, String(bytes)], {
    stdout: true,
    stderr: true,
    callback: rec.callback,
  });
  assert.deepEqual(await p.wait(), [true, 'exit', 0]);
  assert.equal(rec.text.stderr, '');
  const report = JSON.parse(rec.text.stdout);
  // Every byte, once and in order: pattern.mjs sends the digest of what it wrote.
  assert.deepEqual(report.result, [true, 'exit', 0]);
  assert.equal(report.received, bytes);
  assert.equal(report.sha256, report.digest);
  return report;
}

// Generous bounds, as in the Linux suite (bench/ has the figures for Linux).
test('waitSync() frees as it goes: 256 MiB through a callback that keeps nothing', async () => {
  const { rssGrowthMiB } = await volume('waitSync', 'fast', 256 << 20);
  assert.ok(rssGrowthMiB < 128, `RSS grew ${rssGrowthMiB} MiB`);
});

test('await wait() with a slow callback (0.3 ms a call): bounded, the timer fires, nothing lost', async () => {
  const { rssGrowthMiB, lateMs } = await volume('wait', 'slow', 32 << 20);
  assert.ok(rssGrowthMiB < 128, `RSS grew ${rssGrowthMiB} MiB`);
  assert.ok(lateMs < 1000, `a 10 ms timer fired ${lateMs} ms late`);
});

test('stdout and stderr both piped, each to its own stream name', async () => {
  const rec = recorder();
  const p = spawn(
    [node, '-e', "process.stdout.write('to out'); process.stderr.write('to err'); process.exit(5)"],
    { stdout: true, stderr: true, callback: rec.callback },
  );
  assert.deepEqual(await p.wait(), [null, 'exit', 5]);
  assert.deepEqual(rec.text, { stdout: 'to out', stderr: 'to err' });
  for (const [stream, data] of rec.calls) {
    assert.ok(stream === 'stdout' || stream === 'stderr');
    assert.equal(typeof data, 'string');
  }
  // cmd.exe's 2> and 1>&2 work on the pipes the child was given.
  const shell = recorder();
  spawn('echo a& echo b 1>&2', { stdout: true, stderr: true, callback: shell.callback }).waitSync();
  assert.deepEqual(shell.text, { stdout: 'a\r\n', stderr: 'b \r\n' });
});

test('waitSync streams while the child runs: output arrives, and stdin written then reaches it', () => {
  const lines = [];
  const p = spawn([node, fixture('ask.cjs')], {
    stdin: true,
    stdout: true,
    callback: (_stream, data) => {
      lines.push(data);
      // The child waits for this line: without streaming, waitSync would never return.
      if (data === 'first\n') p.write('go on\n');
    },
  });
  assert.deepEqual(p.waitSync(), [true, 'exit', 0]);
  assert.equal(lines.join(''), 'first\nsecond: go on\n');
});

test('many short children: all their output arrives before the exit', async () => {
  const line = 'x'.repeat(999);
  const script = `process.stdout.write(${JSON.stringify(`${line}\n`)}.repeat(100))`;
  for (let i = 0; i < 12; i++) {
    const rec = recorder();
    const p = spawn([node, '-e', script], { stdout: true, callback: rec.callback });
    const result = i % 2 === 0 ? p.waitSync() : await p.wait();
    assert.deepEqual(result, [true, 'exit', 0]);
    assert.equal(rec.text.stdout.length, 100_000, `child ${i}`);
  }
});

test('kill(): TerminateProcess, read back as the signal sent', async () => {
  const p = spawn([node, '-e', 'setTimeout(() => {}, 60000)']);
  await sleep(200);
  p.kill();
  assert.deepEqual(await p.wait(), [null, 'signal', 15]);
  assert.equal(alive(p.pid), false);
  p.kill(); // once reaped: nothing, no error
  p.kill('kill');

  const q = spawn([node, '-e', 'setTimeout(() => {}, 60000)']);
  q.kill('kill');
  assert.deepEqual(q.waitSync(), [null, 'signal', 9]);
  const r = spawn([node, '-e', 'setTimeout(() => {}, 60000)']);
  r.kill('SIGINT');
  assert.deepEqual(await r.wait(), [null, 'signal', 2]);

  // A child that has exited on its own keeps its own status.
  const s = spawn('exit 7');
  await until(() => !alive(s.pid), 10_000, 'the child to exit');
  s.kill();
  assert.deepEqual(s.waitSync(), [null, 'exit', 7]);
  // Signal 0 only checks; signals Windows can't deliver are ENOSYS.
  const t = spawn([node, '-e', 'setTimeout(() => {}, 60000)']);
  t.kill(0);
  assert.throws(
    () => t.kill('hup'),
    (e) => e instanceof IpcError && e.code === 'ENOSYS' && e.syscall === 'kill',
  );
  assert.throws(() => t.kill('SIGBREAK'), { name: 'IpcError', code: 'ENOSYS' });
  t.kill('term');
  assert.deepEqual(await t.wait(), [null, 'signal', 15]);
});

test('group: true puts the child in a Job: kill() ends its own child too', async () => {
  const rec = recorder();
  const p = spawn([node, fixture('tree.cjs')], {
    group: true,
    stdout: true,
    callback: rec.callback,
  });
  await until(() => rec.text.stdout.includes('\n'), 20_000, 'the grandchild pid');
  const grandchild = grandchildPid(rec);
  assert.equal(alive(grandchild), true);
  p.kill();
  assert.deepEqual(await p.wait(), [null, 'signal', 15]);
  assert.equal(await goneWithin(grandchild, 5000), true, 'the grandchild was ended with the job');
});

test('group: kill() after the child itself exited still ends what it left running', async () => {
  const rec = recorder();
  const p = spawn([node, fixture('tree.cjs'), 'exit'], {
    group: true,
    stdout: true,
    callback: rec.callback,
  });
  assert.deepEqual(await p.wait(), [true, 'exit', 0]);
  const grandchild = grandchildPid(rec);
  assert.equal(alive(grandchild), true, 'the grandchild outlived the child');
  p.kill();
  assert.equal(await goneWithin(grandchild, 5000), true);
  assert.deepEqual(await p.wait(), [true, 'exit', 0], 'the child kept its own status');
});

test('without group, kill() ends the child only (its child lives on)', async () => {
  const rec = recorder();
  const p = spawn([node, fixture('tree.cjs')], { stdout: true, callback: rec.callback });
  await until(() => rec.text.stdout.includes('\n'), 20_000, 'the grandchild pid');
  const grandchild = grandchildPid(rec);
  p.kill();
  assert.deepEqual(await p.wait(), [null, 'signal', 15]);
  await sleep(300);
  try {
    assert.equal(alive(grandchild), true);
  } finally {
    process.kill(grandchild);
  }
});

test('argv arrays are quoted by the MSVCRT rules: the child gets exactly the array', async () => {
  const args = [
    'plain',
    'with space',
    '',
    ' ',
    'tab\there',
    'new\nline',
    'a"quote',
    '"',
    '""',
    'back\\slash',
    'trailing\\',
    'trailing two\\\\',
    'space then trailing \\',
    'backslash before quote\\"x',
    'two before quote\\\\"y',
    '\\\\server\\share\\dir with space\\',
    'C:\\Program Files\\x',
    '%PATH%',
    '&|<>^()',
    'ünïcödé ☃ 𝄞',
    '--flag=value with "quotes" and \\ slashes\\',
  ];
  const rec = recorder();
  const p = spawn([node, fixture('argv.cjs'), ...args], { stdout: true, callback: rec.callback });
  assert.deepEqual(await p.wait(), [true, 'exit', 0]);
  assert.deepEqual(JSON.parse(rec.text.stdout), args);
  // -e code with quotes and spaces reaches node.exe whole too.
  const code = recorder();
  spawn([node, '-e', 'console.log("a \\"b\\" c", process.argv.length)', 'x y'], {
    stdout: true,
    callback: code.callback,
  }).waitSync();
  assert.equal(code.text.stdout, 'a "b" c 2\n');
});

test('a missing program is IpcError ENOENT from spawn (with the Win32 code)', () => {
  assert.throws(
    () => spawn(['luaipc-no-such-program']),
    (e) =>
      e instanceof IpcError &&
      e.name === 'IpcError' &&
      e.code === 'ENOENT' &&
      e.syscall === 'posix_spawn' &&
      e.path === 'luaipc-no-such-program' &&
      e.message === "ENOENT: no such file or directory, posix_spawn 'luaipc-no-such-program'" &&
      e.winerror === 2,
  );
  const missing = join(dir, 'missing.exe');
  assert.throws(() => spawn([missing]), { name: 'IpcError', code: 'ENOENT', path: missing });
  // PATH of the given environment, in whatever case Windows spells it.
  assert.throws(() => spawn(['cmd'], { env: { Path: dir } }), { code: 'ENOENT', path: 'cmd' });
  const rec = recorder();
  const found = spawn(['node', '-e', 'process.stdout.write("found")'], {
    env: { Path: join(node, '..') },
    stdout: true,
    callback: rec.callback,
  });
  assert.deepEqual(found.waitSync(), [true, 'exit', 0]);
  assert.equal(rec.text.stdout, 'found');
});

test('what is not a program: a directory is EACCES, a text file ENOEXEC (no /bin/sh to retry with), a batch file EINVAL', () => {
  const sub = join(dir, 'subdir.exe');
  mkdirSync(sub, { recursive: true });
  assert.throws(() => spawn([sub]), { name: 'IpcError', code: 'EACCES', path: sub });
  const text = join(dir, 'text.exe');
  writeFileSync(text, 'not a program\n');
  assert.throws(
    () => spawn([text]),
    (e) =>
      e instanceof IpcError &&
      e.code === 'ENOEXEC' &&
      e.path === text &&
      e.winerror === 193 &&
      e.message === `ENOEXEC: exec format error, posix_spawn '${text}'`,
  );
  const batch = join(dir, 'tool.bat');
  writeFileSync(batch, '@echo from batch %1\r\n');
  assert.throws(() => spawn([batch, 'x & echo injected']), {
    name: 'IpcError',
    code: 'EINVAL',
    path: batch,
  });
  // The string form runs it, through cmd.exe.
  const rec = recorder();
  assert.deepEqual(spawn(`"${batch}" arg`, { stdout: true, callback: rec.callback }).waitSync(), [
    true,
    'exit',
    0,
  ]);
  assert.equal(rec.text.stdout, 'from batch arg\r\n');
});

test('cwd, env and UTF-8 in them', async () => {
  const unicodeDir = join(dir, 'dïr wïth spâce ☃');
  mkdirSync(unicodeDir);
  const rec = recorder();
  const p = spawn([node, '-e', 'process.stdout.write(process.cwd())'], {
    cwd: unicodeDir,
    stdout: true,
    callback: rec.callback,
  });
  assert.deepEqual(await p.wait(), [true, 'exit', 0]);
  assert.equal(rec.text.stdout, unicodeDir);
  // A relative program path resolves in the new directory, as on POSIX.
  writeFileSync(join(unicodeDir, 'hello.cjs'), 'process.stdout.write("hi")');
  const rel = recorder();
  spawn([node, '.\\hello.cjs'], {
    cwd: unicodeDir,
    stdout: true,
    callback: rel.callback,
  }).waitSync();
  assert.equal(rel.text.stdout, 'hi');

  const env = recorder();
  spawn([node, '-e', 'process.stdout.write(JSON.stringify(process.env))'], {
    env: { A: 'x y', B: 42, C: undefined, UNI: 'ünï ☃' },
    stdout: true,
    callback: env.callback,
  }).waitSync();
  const seen = JSON.parse(env.text.stdout);
  assert.equal(seen.A, 'x y');
  assert.equal(seen.B, '42');
  assert.equal(seen.C, undefined);
  assert.equal(seen.UNI, 'ünï ☃');
  assert.equal(seen.LUAIPC_ABSENT, undefined);
  // The one variable added to a given environment: Windows programs need it. (Wine's loader
  // adds its own to every process it starts.)
  const added = underWine ? /^(WINE|SystemDrive$)/ : /^$/;
  assert.deepEqual(
    Object.keys(seen)
      .filter((key) => !added.test(key))
      .sort(),
    ['A', 'B', 'SystemRoot', 'UNI'],
  );

  process.env.LUAIPC_PROC_WIN = 'from parent';
  try {
    const inherited = recorder();
    spawn('echo %LUAIPC_PROC_WIN%', { stdout: true, callback: inherited.callback }).waitSync();
    assert.equal(inherited.text.stdout, 'from parent\r\n');
  } finally {
    delete process.env.LUAIPC_PROC_WIN;
  }

  assert.throws(
    () => spawn(['cmd'], { cwd: join(dir, 'nope') }),
    (e) => e instanceof IpcError && e.code === 'ENOENT' && e.syscall === 'chdir',
  );
  const file = join(dir, 'a-file');
  writeFileSync(file, '');
  assert.throws(() => spawn(['cmd'], { cwd: file }), {
    code: 'ENOTDIR',
    syscall: 'chdir',
    path: file,
  });
});

test('redirection to a file descriptor and to a FileHandle', async () => {
  const outPath = join(dir, 'out.txt');
  const out = openSync(outPath, 'w');
  const p = spawn('echo one& echo two 1>&2& exit 3', { stdout: out, stderr: out });
  closeSync(out); // the child has its own copy
  assert.deepEqual(await p.wait(), [null, 'exit', 3]);
  assert.equal(readFileSync(outPath, 'utf8'), 'one\r\ntwo \r\n');

  const inPath = join(dir, 'in.txt');
  writeFileSync(inPath, 'from a file\n');
  const input = openSync(inPath, 'r');
  const rec = recorder();
  const q = spawn([node, fixture('echo.cjs')], {
    stdin: input,
    stdout: true,
    callback: rec.callback,
  });
  closeSync(input);
  assert.deepEqual(q.waitSync(), [true, 'exit', 0]);
  assert.equal(rec.text.stdout, 'from a file\n');

  const handlePath = join(dir, 'handle.txt');
  const handle = await open(handlePath, 'w');
  const r = spawn([node, '-e', 'process.stdout.write("through a FileHandle")'], { stdout: handle });
  assert.deepEqual(await r.wait(), [true, 'exit', 0]);
  await handle.close();
  assert.equal(readFileSync(handlePath, 'utf8'), 'through a FileHandle');
});

test('no handle leaks into another child: the first sees EOF while the second lives', async () => {
  const first = recorder();
  const a = spawn([node, fixture('echo.cjs')], {
    stdin: true,
    stdout: true,
    callback: first.callback,
  });
  // Others, started while the first one's pipes are open, with pipes of their own: had one of
  // them inherited our end of the first one's stdin, the first would never see EOF.
  const b = spawn([node, fixture('echo.cjs')], { stdin: true, stdout: true, callback: () => {} });
  const c = spawn([node, '-e', 'setTimeout(() => {}, 60000)'], { stdin: true });
  try {
    a.write('bye\n', EOF);
    const timeout = AbortSignal.timeout(20_000);
    assert.deepEqual(await a.wait({ signal: timeout }), [true, 'exit', 0]);
    assert.equal(first.text.stdout, 'bye\n');
    assert.equal(alive(b.pid) && alive(c.pid), true, 'the others still run');
    b.write(EOF);
    assert.deepEqual(await b.wait({ signal: timeout }), [true, 'exit', 0]);
  } finally {
    for (const p of [a, b, c]) p.kill('kill');
  }
  assert.deepEqual(await c.wait(), [null, 'signal', 9]);
});

test("streams left alone are this process's own stdin, stdout and stderr", async () => {
  const helper = cpSpawn(node, [fixture('inherit.mjs')], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  helper.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  helper.stderr.setEncoding('utf8').on('data', (d) => (err += d));
  helper.stdin.end('typed into the parent\n');
  const code = await new Promise((resolve) => helper.on('close', resolve));
  assert.equal(code, 0, err);
  const ok = JSON.stringify([true, 'exit', 0]);
  assert.equal(
    out.replaceAll('\r\n', '\n'),
    `child stdout\n${ok}\n${ok}\ncmd stdout\n${ok}\ntyped into the parent\n${ok}\n`,
  );
  assert.equal(err, 'child stderr\n');
});

test('a worker terminated in waitSync() ends at once; the child is left running', async () => {
  const dist = fileURLToPath(new URL('../dist/index.cjs', import.meta.url));
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const { spawn } = require(workerData.dist);
     const p = spawn([process.execPath, '-e', 'setTimeout(() => {}, 60000)'], { stdin: true });
     parentPort.postMessage(p.pid);
     p.waitSync();`,
    { eval: true, workerData: { dist } },
  );
  const pid = await new Promise((resolve) => worker.once('message', resolve));
  try {
    await sleep(300);
    const t0 = Date.now();
    await worker.terminate();
    assert.ok(Date.now() - t0 < 2000, `terminate() took ${Date.now() - t0} ms`);
    assert.equal(alive(pid), true, 'close() is not kill()');
  } finally {
    process.kill(pid);
  }
});

test('a child that exits without reading its stdin: no error, the status still comes', async () => {
  const p = spawn([node, '-e', 'process.exit(4)'], { stdin: true });
  p.write(Buffer.alloc(1024 * 1024, 0x61));
  assert.deepEqual(await p.wait(), [null, 'exit', 4]);
  const q = spawn('exit 0', { stdin: true });
  q.write('x'.repeat(300_000));
  q.write(EOF);
  assert.deepEqual(q.waitSync(), [true, 'exit', 0]);
});

test('close() leaves the child running; the child reads EOF on its stdin', async () => {
  const p = spawn(
    [node, '-e', 'process.stdin.resume(); process.stdin.on("end", () => process.exit(0))'],
    { stdin: true },
  );
  await sleep(300);
  assert.equal(alive(p.pid), true, 'it waits for its stdin');
  const pending = p.wait();
  p.close();
  await assert.rejects(pending, { name: 'IpcError', code: 'ECANCELED', syscall: 'wait' });
  assert.throws(() => p.kill(), { code: 'ERR_IPC_CLOSED' });
  assert.equal(await goneWithin(p.pid, 15_000), true, 'it saw EOF and exited');
});

test('bad input gives the same errors as on Linux', async () => {
  assert.throws(() => spawn(42), {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_TYPE',
    message:
      'The "cmd" argument must be of type string or an instance of Array. Received type number (42)',
  });
  assert.throws(() => spawn([]), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => spawn(['']), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => spawn([node, 1]), {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_TYPE',
    message: 'The "cmd[1]" argument must be of type string. Received type number (1)',
  });
  assert.throws(() => spawn('echo a\0b'), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => spawn(['cmd'], { stdout: true }), {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_TYPE',
  });
  assert.throws(() => spawn(['cmd'], { stdin: -1 }), {
    name: 'RangeError',
    code: 'ERR_OUT_OF_RANGE',
  });
  assert.throws(() => spawn(['cmd'], { group: 'yes' }), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => spawn(['cmd'], { encoding: 'nope' }), { code: 'ERR_INVALID_ARG_VALUE' });

  // A closed descriptor or FileHandle: EBADF from dup2, as on Linux.
  const fd = openSync(join(dir, 'closed.txt'), 'w');
  closeSync(fd);
  for (const stream of ['stdin', 'stdout', 'stderr']) {
    const options = { stdin: true, stdout: true, stderr: true, [stream]: fd, callback: () => {} };
    assert.throws(
      () => spawn(['cmd', '/c', 'exit'], options),
      (e) => e instanceof IpcError && e.code === 'EBADF' && e.syscall === 'dup2',
    );
  }
  assert.throws(() => spawn(['cmd'], { stderr: 9999 }), { name: 'IpcError', code: 'EBADF' });
  const handle = await open(join(dir, 'closed2.txt'), 'w');
  await handle.close();
  assert.throws(() => spawn(['cmd'], { stdout: handle }), { code: 'EBADF', syscall: 'dup2' });

  const p = spawn([node, '-e', 'setTimeout(() => {}, 60000)']);
  try {
    assert.throws(() => p.kill('bogus'), { name: 'TypeError', code: 'ERR_UNKNOWN_SIGNAL' });
    assert.throws(() => p.kill(-1), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    // An out-of-range signal number is EINVAL from kill, as the OS says on Linux.
    assert.throws(
      () => p.kill(1000),
      (e) => e instanceof IpcError && e.code === 'EINVAL' && e.syscall === 'kill',
    );
    assert.throws(() => p.write('x'), { code: 'ERR_INVALID_STATE' });
  } finally {
    p.kill('kill');
  }
  assert.deepEqual(await p.wait(), [null, 'signal', 9]);
  p.close();
  assert.throws(() => p.waitSync(), {
    code: 'ERR_IPC_CLOSED',
    message: 'attempt to use a closed process',
  });
});
