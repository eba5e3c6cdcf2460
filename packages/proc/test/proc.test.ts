import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runChild } from '@luaipc/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EOF, type ExitResult, IpcError, type Process, spawn } from '../src/index.js';
import {
  counterChecker,
  fixtures,
  processes,
  recorder,
  runFixture,
  sleep,
  zombies,
} from './helpers.js';

const LUA = 'lua5.4';
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'luaipc-proc-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

type Mode = 'waitSync' | 'wait';
const MODES: Mode[] = ['waitSync', 'wait'];

function finish(p: Process, mode: Mode): Promise<ExitResult> {
  return mode === 'waitSync' ? Promise.resolve(p.waitSync()) : p.wait();
}

describe("LuaIPC's proctest cases (lua5.4 procwork.lua N through the shell)", () => {
  const luaError =
    "lua5.4: procwork.lua:11: an error message\nstack traceback:\n\t[C]: in function 'error'\n" +
    '\tprocwork.lua:11: in main chunk\n\t[C]: in ?\n';
  const cases: {
    n: string;
    title: string;
    input?: (string | typeof EOF)[];
    stdout: string;
    stderr: string;
    result: ExitResult;
  }[] = [
    { n: '1', title: 'stdout', stdout: 'hello world\n', stderr: '', result: [true, 'exit', 0] },
    { n: '2', title: 'stderr', stdout: '', stderr: 'hello world\n', result: [true, 'exit', 0] },
    {
      n: '3',
      title: 'stdout and stderr',
      stdout: 'hello world\n',
      stderr: 'hello world\n',
      result: [true, 'exit', 0],
    },
    { n: '4', title: 'an error', stdout: '', stderr: luaError, result: [null, 'exit', 1] },
    { n: '5', title: 'no input or output', stdout: '', stderr: '', result: [true, 'exit', 0] },
    {
      n: '6',
      title: 'one line of input',
      input: ['sending input\n', EOF],
      stdout: 'sending input\n',
      stderr: '',
      result: [true, 'exit', 0],
    },
    {
      n: '7',
      title: 'several writes, echoed line by line',
      input: ['hallo welt,\n', 'ich bin da.\n', 'hallo welt,\n', 'alles klar?\n', EOF],
      stdout: 'hallo welt,\nich bin da.\nhallo welt,\nalles klar?\n',
      stderr: '',
      result: [true, 'exit', 0],
    },
  ];
  for (const mode of MODES) {
    for (const c of cases) {
      it(`${c.n}: ${c.title} (${mode})`, async () => {
        const rec = recorder();
        const p = spawn(`${LUA} procwork.lua ${c.n}`, {
          stdin: true,
          stdout: true,
          stderr: true,
          cwd: fixtures,
          callback: rec.callback,
        });
        if (c.input) p.write(...c.input);
        expect(await finish(p, mode)).toEqual(c.result);
        expect(rec.text).toEqual({ stdout: c.stdout, stderr: c.stderr });
        // Every call carries data, never an error.
        for (const call of rec.calls) expect(call).toHaveLength(2);
      });
    }

    it(`7 killed with kill('term') before it reads anything (${mode})`, async () => {
      const rec = recorder();
      const p = spawn(`${LUA} procwork.lua 7`, {
        stdin: true,
        stdout: true,
        stderr: true,
        cwd: fixtures,
        callback: rec.callback,
      });
      p.kill('term');
      expect(await finish(p, mode)).toEqual([null, 'signal', 15]);
      expect(rec.calls).toEqual([]);
    });

    it(`7 with stdin and stdout redirected to files by descriptor (${mode})`, async () => {
      const out = join(dir, `out-fd-${mode}.txt`);
      const input = openSync(join(fixtures, 'procwork.lua'), 'r');
      const output = openSync(out, 'w');
      const p = spawn(`${LUA} procwork.lua 7`, { stdin: input, stdout: output, cwd: fixtures });
      // As LuaIPC's test does: the parent's copies can be closed at once.
      closeSync(input);
      closeSync(output);
      expect(await finish(p, mode)).toEqual([true, 'exit', 0]);
      expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(fixtures, 'procwork.lua'), 'utf8'));
    });
  }

  it('7 with FileHandles from fs.promises for stdin and stdout', async () => {
    const out = join(dir, 'out-filehandle.txt');
    const input = await openFile(join(fixtures, 'procwork.lua'), 'r');
    const output = await openFile(out, 'w');
    try {
      const p = spawn(`${LUA} procwork.lua 7`, { stdin: input, stdout: output, cwd: fixtures });
      expect(await p.wait()).toEqual([true, 'exit', 0]);
    } finally {
      await input.close();
      await output.close();
    }
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(fixtures, 'procwork.lua'), 'utf8'));
  });
});

describe('kill', () => {
  for (const [signal, code] of [
    ['term', 15],
    ['kill', 9],
    ['SIGINT', 2],
    ['usr1', 10],
    [15, 15],
    [undefined, 15],
  ] as const) {
    it(`kill(${String(signal)}) ends sleep 30 with signal ${code}`, async () => {
      const p = spawn(['sleep', '30']);
      p.kill(signal);
      expect(await p.wait()).toEqual([null, 'signal', code]);
    });
  }

  it('kill() after the child was reaped does nothing', async () => {
    const p = spawn(['true']);
    expect(await p.wait()).toEqual([true, 'exit', 0]);
    p.kill('kill');
    expect(p.waitSync()).toEqual([true, 'exit', 0]);
  });

  it("group: true reaches a pipeline's grandchildren; no sleep survives", async () => {
    const tag = `30.${process.pid}1`;
    const p = spawn(`sleep ${tag} | sleep ${tag}`, { group: true });
    const running = () => processes().filter((q) => q.cmdline === `sleep ${tag}`);
    await expect.poll(() => running().length, { timeout: 5000 }).toBe(2);
    for (const q of running()) expect(q.pgrp).toBe(p.pid);
    p.kill('term');
    expect(await p.wait()).toEqual([null, 'signal', 15]);
    await expect.poll(() => running().length, { timeout: 5000 }).toBe(0);
  });

  it('without group, kill() reaches only the shell: the pipeline lives on (the trade-off)', async () => {
    const tag = `30.${process.pid}2`;
    const p = spawn(`sleep ${tag} | sleep ${tag}`);
    const running = () => processes().filter((q) => q.cmdline === `sleep ${tag}`);
    try {
      await expect.poll(() => running().length, { timeout: 5000 }).toBe(2);
      expect(running().every((q) => q.pgrp !== p.pid)).toBe(true);
      p.kill('term');
      expect(await p.wait()).toEqual([null, 'signal', 15]);
      await sleep(200);
      expect(running()).toHaveLength(2);
    } finally {
      for (const q of running()) process.kill(q.pid, 'SIGKILL');
    }
  });

  it('with group, kill() after the leader exited still reaches its background job', async () => {
    const tag = `30.${process.pid}3`;
    const p = spawn(`sleep ${tag} & echo started`, {
      group: true,
      stdout: true,
      callback: () => {},
    });
    expect(await p.wait()).toEqual([true, 'exit', 0]);
    const running = () => processes().filter((q) => q.cmdline === `sleep ${tag}`);
    await expect.poll(() => running().length, { timeout: 5000 }).toBe(1);
    p.kill('kill');
    await expect.poll(() => running().length, { timeout: 5000 }).toBe(0);
  });
});

describe("kill with group: true never reaches a group that is not the child's", () => {
  // A pid namespace of our own (as root) makes pid reuse safe and steerable.
  const unshare = ['-p', '-f', '--mount-proc'];
  const available =
    process.getuid?.() === 0 && spawnSync('unshare', [...unshare, 'true']).status === 0;

  it.skipIf(!available)(
    'the exited leader is held until close(): its group id cannot pass to another group (in a pid namespace: skipped without root and unshare)',
    async () => {
      const r = await runChild('unshare', [
        ...unshare,
        process.execPath,
        join(fixtures, 'group-reuse.mjs'),
      ]);
      expect(r).toMatchObject({ code: 0, signal: null, stderr: '' });
      expect(JSON.parse(r.stdout)).toEqual({
        result: [true, 'exit', 0],
        // Unreaped while the handle is open: its pid, the group id, stays taken...
        leaderState: 'Z',
        otherGotTheId: false,
        // ...so kill() had no other group to reach.
        otherAlive: true,
        // close() reaps it; the id is free again, and the handle can signal nothing.
        leaderAfterClose: 'gone',
        nextGotTheId: true,
        killAfterClose: 'ERR_IPC_CLOSED',
        nextAlive: true,
      });
    },
  );

  it('a collected Process, or one whose worker ended, lets its held leader go', async () => {
    const r = await runFixture('group-gc.mjs', [], ['--expose-gc']);
    expect(r).toMatchObject({ code: 0, signal: null, stderr: '' });
    expect(r.stdout).toBe('held 20 after gc 0\nheld in worker 20 after it ended 0\n');
  });

  it('close() of an exited group leader leaves no zombie', async () => {
    const p = spawn(['true'], { group: true });
    expect(await p.wait()).toEqual([true, 'exit', 0]);
    expect(zombies().map((z) => z.pid)).toContain(p.pid);
    p.close();
    expect(zombies().map((z) => z.pid)).not.toContain(p.pid);
  });
});

describe('output', () => {
  for (const mode of MODES) {
    it(`64 MiB of stdout arrives complete and in order (${mode})`, async () => {
      const check = counterChecker();
      let calls = 0;
      const p = spawn([process.execPath, join(fixtures, 'counter.mjs'), String(64 << 20)], {
        stdout: true,
        encoding: 'buffer',
        callback: (stream, data) => {
          calls++;
          expect(stream).toBe('stdout');
          check.feed(data as Buffer);
        },
      });
      expect(await finish(p, mode)).toEqual([true, 'exit', 0]);
      expect(check.result).toEqual({ bytes: 64 << 20, firstBad: -1 });
      expect(calls).toBeGreaterThan(1);
    });
  }

  it('stdout and stderr at once, 8 MiB each, arrive complete', async () => {
    const script =
      `node ${join(fixtures, 'counter.mjs')} ${8 << 20} stderr & ` +
      `node ${join(fixtures, 'counter.mjs')} ${8 << 20}; wait`;
    const checks = { stdout: counterChecker(), stderr: counterChecker() };
    const p = spawn(script, {
      stdout: true,
      stderr: true,
      encoding: 'buffer',
      env: { ...process.env, PATH: `${join(process.execPath, '..')}:${process.env.PATH}` },
      callback: (stream, data) => checks[stream].feed(data as Buffer),
    });
    expect(await p.wait()).toEqual([true, 'exit', 0]);
    expect(checks.stdout.result).toEqual({ bytes: 8 << 20, firstBad: -1 });
    expect(checks.stderr.result).toEqual({ bytes: 8 << 20, firstBad: -1 });
  });

  for (const mode of MODES) {
    it(`16 MiB written to cat while its output is read, without deadlock (${mode})`, async () => {
      const input = Buffer.alloc(16 << 20);
      for (let i = 0; i < input.length; i += 4) input.writeUInt32LE(i / 4, i);
      const received: Buffer[] = [];
      const p = spawn(['cat'], {
        stdin: true,
        stdout: true,
        encoding: 'buffer',
        callback: (_stream, data) => received.push(data as Buffer),
      });
      // In pieces of 1 MiB, as a Uint8Array, a DataView and a Buffer.
      for (let off = 0; off < input.length; off += 3 << 20) {
        const piece = input.subarray(off, Math.min(off + (3 << 20), input.length));
        const third = Math.floor(piece.length / 3);
        p.write(
          new Uint8Array(piece.buffer, piece.byteOffset, third),
          new DataView(piece.buffer, piece.byteOffset + third, third),
          piece.subarray(2 * third),
        );
      }
      p.write(EOF);
      expect(await finish(p, mode)).toEqual([true, 'exit', 0]);
      const output = Buffer.concat(received);
      expect(output.length).toBe(input.length);
      expect(createHash('sha256').update(output).digest('hex')).toBe(
        createHash('sha256').update(input).digest('hex'),
      );
    });
  }

  for (const mode of MODES) {
    it(`a background job that keeps writing does not hold the result back (${mode})`, async () => {
      let bytes = 0;
      // The shell exits at once; `yes` inherits the pipe and writes as fast as it can.
      const p = spawn('yes &', {
        stdout: true,
        encoding: 'buffer',
        callback: (_s, d) => {
          bytes += (d as Buffer).length;
        },
      });
      expect(await finish(p, mode)).toEqual([true, 'exit', 0]);
      // Whatever arrived before the exit was noticed, plus at most the bounded final drain.
      expect(bytes).toBeLessThanOrEqual(5 << 20);
    });
  }

  it('waitSync calls the callback while the child still runs (prints, sleeps, prints)', () => {
    const seen: { data: string; alive: boolean; at: number }[] = [];
    const t0 = performance.now();
    const p = spawn('echo first; sleep 0.5; echo second', {
      stdout: true,
      callback: (_stream, data) => {
        let alive = false;
        try {
          alive = !readFileSync(`/proc/${p.pid}/stat`, 'utf8').includes(') Z ');
        } catch {}
        seen.push({ data: data as string, alive, at: performance.now() - t0 });
      },
    });
    expect(p.waitSync()).toEqual([true, 'exit', 0]);
    const end = performance.now() - t0;
    expect(seen.map((s) => s.data)).toEqual(['first\n', 'second\n']);
    expect(seen[0]?.alive).toBe(true);
    // The first line came during the sleep, not at the end.
    expect(end - (seen[0]?.at ?? end)).toBeGreaterThan(300);
  });

  it('waitSync streams both ways: the child waits for an answer to its first line', () => {
    const rec = recorder();
    const p = spawn('echo question; read answer; echo "got $answer"', {
      stdin: true,
      stdout: true,
      callback: (stream, data) => {
        rec.callback(stream, data);
        if (data === 'question\n') p.write('42\n');
      },
    });
    expect(p.waitSync()).toEqual([true, 'exit', 0]);
    expect(rec.text.stdout).toBe('question\ngot 42\n');
  });

  for (const mode of MODES) {
    it(`UTF-8 split across pipe reads arrives as whole characters (${mode})`, async () => {
      const rec = recorder();
      // '€' is E2 82 AC; '😀' is F0 9F 98 80. The pauses make separate reads.
      const p = spawn(
        "printf 'a\\342\\202'; sleep 0.2; printf '\\254b\\360'; sleep 0.2; printf '\\237\\230'; sleep 0.2; printf '\\200'",
        { stdout: true, callback: rec.callback },
      );
      expect(await finish(p, mode)).toEqual([true, 'exit', 0]);
      // The reads end mid-character; every call still holds whole characters. (On a loaded
      // machine two reads may come as one call: the text is the same, split elsewhere.)
      expect(rec.text.stdout).toBe('a€b😀');
      const pieces = rec.calls.map((c) => c[1] as string);
      expect(pieces.some((x) => x.includes('\ufffd'))).toBe(false);
      if (pieces.length === 3) expect(pieces).toEqual(['a', '€b', '😀']);
      else expect(pieces.length).toBeGreaterThan(0);
    });
  }

  it('string calls carry at most 64 KiB; a throwing callback loses none of the rest', () => {
    const sizes: number[] = [];
    let text = '';
    const p = spawn(`head -c ${8 << 20} /dev/zero | tr '\\0' x`, {
      stdout: true,
      callback: (_s, d) => {
        sizes.push(Buffer.byteLength(d as string));
        text += d;
        if (sizes.length === 3) throw new Error('third call');
      },
    });
    expect(() => p.waitSync()).toThrow('third call');
    expect(p.waitSync()).toEqual([true, 'exit', 0]);
    expect(text.length).toBe(8 << 20);
    expect(/^x*$/.test(text)).toBe(true);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(64 * 1024);
  });

  it('an incomplete character at the end of the output becomes U+FFFD', () => {
    const rec = recorder();
    spawn("printf 'x\\342\\202'", { stdout: true, callback: rec.callback }).waitSync();
    expect(rec.calls).toEqual([
      ['stdout', 'x'],
      ['stdout', '\ufffd'],
    ]);
  });

  it("encoding 'latin1' gives one character per byte; 'buffer' gives Buffers", () => {
    const latin = recorder();
    spawn("printf '\\342\\202\\254'", {
      stdout: true,
      encoding: 'latin1',
      callback: latin.callback,
    }).waitSync();
    expect(latin.text.stdout).toBe('\u00e2\u0082\u00ac');
    const bytes: unknown[] = [];
    spawn("printf '\\342\\202\\254'", {
      stdout: true,
      encoding: 'buffer',
      callback: (_s, d) => bytes.push(d),
    }).waitSync();
    expect(bytes).toEqual([Buffer.from([0xe2, 0x82, 0xac])]);
  });

  it('wait() resolves only after every piece of output reached the callback', async () => {
    const order: string[] = [];
    const p = spawn(['seq', '1', '20000'], {
      stdout: true,
      callback: (_s, d) => {
        order.push(`data ${(d as string).length}`);
      },
    });
    const result = await p.wait();
    order.push('resolved');
    expect(result).toEqual([true, 'exit', 0]);
    expect(order.at(-1)).toBe('resolved');
    const total = order.slice(0, -1).reduce((n, line) => n + Number(line.slice(5)), 0);
    const expected = Array.from({ length: 20000 }, (_, i) => `${i + 1}\n`).join('').length;
    expect(total).toBe(expected);
  });
});

describe('many at once', () => {
  it('50 children at once, each with its own output and exit status', async () => {
    const texts = new Map<number, string>();
    const procs = Array.from({ length: 50 }, (_, i) => {
      const p = spawn(['sh', '-c', `echo $$; exit ${i % 4}`], {
        stdout: true,
        callback: (_s, d) => {
          texts.set(p.pid, (texts.get(p.pid) ?? '') + d);
        },
      });
      return p;
    });
    const results = await Promise.all(procs.map((p) => p.wait()));
    results.forEach((r, i) => {
      expect(r).toEqual(i % 4 === 0 ? [true, 'exit', 0] : [null, 'exit', i % 4]);
    });
    for (const p of procs) expect(texts.get(p.pid)).toBe(`${p.pid}\n`);
  });

  it('100,000 one-byte writes arrive in order', () => {
    let out = '';
    const p = spawn(['cat'], {
      stdin: true,
      stdout: true,
      callback: (_s, d) => {
        out += d;
      },
    });
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    for (let i = 0; i < 100_000; i++) p.write(letters[i % 26] as string);
    p.write(EOF);
    expect(p.waitSync()).toEqual([true, 'exit', 0]);
    expect(out).toBe(letters.repeat(Math.ceil(100_000 / 26)).slice(0, 100_000));
  });
});

describe('pipe sizes', () => {
  // F_GETPIPE_SZ, as the child sees it.
  const report =
    'import fcntl, sys\n' +
    'data = sys.stdin.buffer.read()\n' +
    'print(len(data), fcntl.fcntl(0, 1032), fcntl.fcntl(1, 1032))\n' +
    'sys.stdout.flush()\n';

  it('a pipe stays at the default size unless it is kept full', () => {
    const rec = recorder();
    const p = spawn(['python3', '-c', report], {
      stdin: true,
      stdout: true,
      callback: rec.callback,
    });
    p.write('small', EOF);
    expect(p.waitSync()).toEqual([true, 'exit', 0]);
    expect(rec.text.stdout).toBe('5 65536 65536\n');
  });

  it('stdin that is kept full grows to 256 KiB', () => {
    const rec = recorder();
    const p = spawn(['python3', '-c', report], {
      stdin: true,
      stdout: true,
      callback: rec.callback,
    });
    p.write(Buffer.alloc(16 << 20), EOF);
    expect(p.waitSync()).toEqual([true, 'exit', 0]);
    expect(rec.text.stdout).toBe(`${16 << 20} 262144 65536\n`);
  });

  it('output that keeps the pipe full grows it to 256 KiB', () => {
    const rec = recorder();
    // Writes 32 MiB while this process reads slowly (the callback busy-waits), then reports.
    const script =
      'import fcntl, os, sys\n' +
      'buf = bytes(1 << 20)\n' +
      'for _ in range(32): os.write(2, buf)\n' +
      'print(fcntl.fcntl(2, 1032))\n';
    let bytes = 0;
    const p = spawn(['python3', '-c', script], {
      stdout: true,
      stderr: true,
      encoding: 'buffer',
      callback: (stream, data) => {
        if (stream === 'stdout') rec.callback(stream, (data as Buffer).toString());
        else bytes += (data as Buffer).length;
        const until = performance.now() + 0.2;
        while (performance.now() < until) {}
      },
    });
    expect(p.waitSync()).toEqual([true, 'exit', 0]);
    expect(bytes).toBe(32 << 20);
    expect(rec.text.stdout).toBe('262144\n');
  });
});

describe('stdin', () => {
  for (const mode of MODES) {
    it(`a child that exits without reading its stdin: no error, status kept (${mode})`, async () => {
      const p = spawn('exit 7', { stdin: true });
      p.write(Buffer.alloc(4 << 20, 1), 'more', EOF);
      expect(await finish(p, mode)).toEqual([null, 'exit', 7]);
    });
  }

  it('writes to a child that read one byte and exited are absorbed (EPIPE)', async () => {
    const rec = recorder();
    const p = spawn(['head', '-c', '1'], { stdin: true, stdout: true, callback: rec.callback });
    p.write('x'.repeat(1 << 20));
    expect(await p.wait()).toEqual([true, 'exit', 0]);
    // Still no error after the exit; the bytes go nowhere.
    p.write('late', EOF);
    expect(rec.text.stdout).toBe('x');
  });

  it('a string is sent as UTF-8', () => {
    const rec = recorder();
    const p = spawn(['od', '-An', '-tx1'], { stdin: true, stdout: true, callback: rec.callback });
    p.write('é€', EOF);
    p.waitSync();
    expect(rec.text.stdout.trim()).toBe('c3 a9 e2 82 ac');
  });

  it('EOF alone closes stdin; nothing written before it is lost', () => {
    const rec = recorder();
    const p = spawn(['wc', '-c'], { stdin: true, stdout: true, callback: rec.callback });
    p.write('abc');
    p.write('');
    p.write(new Uint8Array(0));
    p.write('def');
    p.write(EOF);
    expect(p.waitSync()).toEqual([true, 'exit', 0]);
    expect(rec.text.stdout.trim()).toBe('6');
  });
});

describe('wait', () => {
  it('a second wait() or waitSync() gives the same result', async () => {
    const p = spawn('exit 3');
    const first = await p.wait();
    expect(first).toEqual([null, 'exit', 3]);
    expect(await p.wait()).toEqual([null, 'exit', 3]);
    expect(p.waitSync()).toEqual([null, 'exit', 3]);
    // Copies: changing one result does not change the next.
    first[2] = 99;
    expect(p.waitSync()).toEqual([null, 'exit', 3]);
  });

  it('several pending wait() calls all resolve', async () => {
    const p = spawn(['sleep', '0.1']);
    const results = await Promise.all([p.wait(), p.wait(), p.wait()]);
    expect(results).toEqual([
      [true, 'exit', 0],
      [true, 'exit', 0],
      [true, 'exit', 0],
    ]);
  });

  it("an aborted wait() rejects with the signal's reason; the child goes on", async () => {
    const p = spawn(['sleep', '0.3']);
    const controller = new AbortController();
    const aborted = p.wait({ signal: controller.signal });
    const other = p.wait();
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    expect(await other).toEqual([true, 'exit', 0]);
    await expect(p.wait({ signal: AbortSignal.abort('why') })).resolves.toEqual([true, 'exit', 0]);
  });

  it('many waits share one AbortSignal without a MaxListenersExceededWarning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const children = Array.from({ length: 15 }, () => spawn(['sleep', '5']));
      const controller = new AbortController();
      const waits = children.map((p) => p.wait({ signal: controller.signal }));
      controller.abort();
      const results = await Promise.allSettled(waits);
      expect(results.map((r) => r.status)).toEqual(children.map(() => 'rejected'));
      for (const p of children) p.kill('kill');
      const ends = await Promise.all(children.map((p) => p.wait()));
      expect(ends).toEqual(children.map(() => [null, 'signal', 9]));
      await sleep(10);
      expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('an already aborted signal rejects a wait on a running child at once', async () => {
    const p = spawn(['sleep', '5']);
    await expect(p.wait({ signal: AbortSignal.abort('stop') })).rejects.toBe('stop');
    p.kill('kill');
    expect(await p.wait()).toEqual([null, 'signal', 9]);
  });

  it('wait() and waitSync() mixed: the sync loop takes over from the thread', async () => {
    const rec = recorder();
    const p = spawn('echo one; sleep 0.5; echo two; sleep 0.2; echo three', {
      stdout: true,
      callback: rec.callback,
    });
    const pending = p.wait();
    await expect.poll(() => rec.text.stdout).toBe('one\n');
    expect(p.waitSync()).toEqual([true, 'exit', 0]);
    expect(rec.text.stdout).toBe('one\ntwo\nthree\n');
    expect(await pending).toEqual([true, 'exit', 0]);
  });

  it('waitSync() called from inside a callback finishes the loop', () => {
    const rec = recorder();
    let inner: ExitResult | undefined;
    const p = spawn('echo a; sleep 0.1; echo b', {
      stdout: true,
      callback: (s, d) => {
        rec.callback(s, d);
        if (rec.calls.length === 1) inner = p.waitSync();
      },
    });
    expect(p.waitSync()).toEqual([true, 'exit', 0]);
    expect(inner).toEqual([true, 'exit', 0]);
    expect(rec.text.stdout).toBe('a\nb\n');
  });

  it('waitSync() called from a callback on the async path takes the rest in order', async () => {
    const rec = recorder();
    let inner: ExitResult | undefined;
    const p = spawn('echo a; sleep 0.1; echo b; sleep 0.1; echo c', {
      stdout: true,
      callback: (s, d) => {
        rec.callback(s, d);
        if (rec.calls.length === 1) inner = p.waitSync();
      },
    });
    expect(await p.wait()).toEqual([true, 'exit', 0]);
    expect(inner).toEqual([true, 'exit', 0]);
    expect(rec.text.stdout).toBe('a\nb\nc\n');
  });

  it('a callback that throws ends waitSync with its error; the next waitSync goes on', () => {
    const rec = recorder();
    const p = spawn('echo a; sleep 0.1; echo b', {
      stdout: true,
      callback: (s, d) => {
        rec.callback(s, d);
        // The first call, whatever it holds (on a loaded machine 'a' and 'b' may come together).
        if (rec.calls.length === 1) throw new Error('from the callback');
      },
    });
    expect(() => p.waitSync()).toThrow('from the callback');
    expect(p.waitSync()).toEqual([true, 'exit', 0]);
    expect(rec.text.stdout).toBe('a\nb\n');
  });
});

describe('spawning', () => {
  it('an argv array runs without a shell: metacharacters are plain arguments', () => {
    const rec = recorder();
    const p = spawn(['printf', '%s|', '$(echo no)', '; exit 1', '*'], {
      stdout: true,
      callback: rec.callback,
    });
    expect(p.waitSync()).toEqual([true, 'exit', 0]);
    expect(rec.text.stdout).toBe('$(echo no)|; exit 1|*|');
  });

  it('a missing program is IpcError ENOENT from spawn (argv), exit status 127 (shell)', () => {
    expect(() => spawn(['luaipc-no-such-program'])).toThrow(
      expect.objectContaining({
        name: 'IpcError',
        code: 'ENOENT',
        syscall: 'posix_spawn',
        path: 'luaipc-no-such-program',
        message: "ENOENT: no such file or directory, posix_spawn 'luaipc-no-such-program'",
      }),
    );
    expect(() => spawn([join(dir, 'missing')])).toThrow(
      expect.objectContaining({ code: 'ENOENT', path: join(dir, 'missing') }),
    );
    const err = recorder();
    const p = spawn('luaipc-no-such-program', { stderr: true, callback: err.callback });
    expect(p.waitSync()).toEqual([null, 'exit', 127]);
    expect(err.text.stderr).toContain('not found');
  });

  it('a file that is not executable is EACCES', () => {
    const file = join(dir, 'not-executable');
    writeFileSync(file, '#!/bin/sh\n', { mode: 0o644 });
    expect(() => spawn([file])).toThrow(expect.objectContaining({ code: 'EACCES', path: file }));
  });

  it('an executable script without "#!" runs with /bin/sh, as execvp and child_process run it', () => {
    const script = join(dir, 'no-shebang');
    writeFileSync(script, 'echo "ran as $0 with [$1] [$2]"\n', { mode: 0o755 });
    const expected = execFileSync(script, ['a b', 'c'], { encoding: 'utf8' });
    expect(expected).toBe(`ran as ${script} with [a b] [c]\n`);
    const run = (cmd: string[], options = {}) => {
      const rec = recorder();
      const p = spawn(cmd, { ...options, stdout: true, stderr: true, callback: rec.callback });
      expect(p.waitSync()).toEqual([true, 'exit', 0]);
      return rec.text;
    };
    expect(run([script, 'a b', 'c'])).toEqual({ stdout: expected, stderr: '' });
    // Found in PATH, and by a relative path in cwd: $0 is the path that was run, as for execvp.
    expect(run(['no-shebang', 'a b', 'c'], { env: { PATH: dir } })).toEqual({
      stdout: `ran as ${script} with [a b] [c]\n`,
      stderr: '',
    });
    expect(run(['./no-shebang', 'x'], { cwd: dir })).toEqual({
      stdout: 'ran as ./no-shebang with [x] []\n',
      stderr: '',
    });
    // Not executable: still EACCES, never run.
    const plain = join(dir, 'no-shebang-plain');
    writeFileSync(plain, 'echo should not run\n', { mode: 0o644 });
    expect(() => spawn([plain])).toThrow(expect.objectContaining({ code: 'EACCES', path: plain }));
  });

  it('a bad cwd is IpcError from chdir, not a missing program', () => {
    expect(() => spawn(['true'], { cwd: join(dir, 'nope') })).toThrow(
      expect.objectContaining({ name: 'IpcError', code: 'ENOENT', syscall: 'chdir' }),
    );
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    expect(() => spawn(['true'], { cwd: file })).toThrow(
      expect.objectContaining({ code: 'ENOTDIR', syscall: 'chdir', path: file }),
    );
  });

  it('cwd (string or file URL) and a relative program path resolve in the new directory', () => {
    for (const cwd of [fixtures, pathToFileURL(fixtures)]) {
      const rec = recorder();
      spawn(['pwd'], { cwd, stdout: true, callback: rec.callback }).waitSync();
      expect(rec.text.stdout).toBe(`${fixtures.replace(/\/$/, '')}\n`);
    }
    const script = join(dir, 'hello.sh');
    writeFileSync(script, '#!/bin/sh\necho hi from $0\n', { mode: 0o755 });
    const rec = recorder();
    spawn(['./hello.sh'], { cwd: dir, stdout: true, callback: rec.callback }).waitSync();
    expect(rec.text.stdout).toBe('hi from ./hello.sh\n');
  });

  it('env replaces the environment; its PATH finds the program', () => {
    const rec = recorder();
    spawn(['sh', '-c', 'echo "$A|$B|$PATH"; env | wc -l'], {
      env: { A: 'x y', B: 42, C: undefined, PATH: '/usr/bin:/bin' },
      stdout: true,
      callback: rec.callback,
    }).waitSync();
    expect(rec.text.stdout).toBe('x y|42|/usr/bin:/bin\n4\n');
    writeFileSync(join(dir, 'mytool'), '#!/bin/sh\necho mytool ran\n', { mode: 0o755 });
    const tool = recorder();
    spawn(['mytool'], {
      env: { PATH: `/nonexistent:${dir}` },
      stdout: true,
      callback: tool.callback,
    }).waitSync();
    expect(tool.text.stdout).toBe('mytool ran\n');
    expect(() => spawn(['mytool'])).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('the default environment is process.env', () => {
    const rec = recorder();
    process.env.LUAIPC_PROC_TEST = 'from parent';
    try {
      spawn('echo "$LUAIPC_PROC_TEST"', { stdout: true, callback: rec.callback }).waitSync();
    } finally {
      delete process.env.LUAIPC_PROC_TEST;
    }
    expect(rec.text.stdout).toBe('from parent\n');
  });

  it("stderr can go to this process's stdout by descriptor (2>&1 style)", () => {
    const out = join(dir, 'both.txt');
    const fd = openSync(out, 'w');
    try {
      spawn('echo out; echo err >&2', { stdout: fd, stderr: fd }).waitSync();
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(out, 'utf8')).toBe('out\nerr\n');
  });

  it('a piped stdout and the parent stderr given as the child stdout do not clobber each other', async () => {
    // In a process of ours whose stderr, where the spawned child's stdout goes, is captured.
    const r = await runFixture('stderr-as-stdout.mjs');
    expect(r).toMatchObject({ code: 0, signal: null, stderr: 'to-parent-stderr\n' });
    expect(JSON.parse(r.stdout)).toEqual({ stdout: '', stderr: 'to-pipe\n' });
  });

  it('the child starts with default signal dispositions (SIGPIPE is not ignored)', () => {
    const rec = recorder();
    spawn("grep SigIgn /proc/self/status | tr -d '\\t'", {
      stdout: true,
      callback: rec.callback,
    }).waitSync();
    expect(rec.text.stdout).toBe('SigIgn:0000000000000000\n');
  });

  it('pid is the child process id and stays readable after close', async () => {
    const p = spawn(['sleep', '5']);
    // (The kernel fills in the new program's command line just after posix_spawn returns.)
    await expect
      .poll(() => readFileSync(`/proc/${p.pid}/cmdline`, 'utf8'))
      .toBe('sleep\u00005\u0000');
    p.kill('kill');
    expect(await p.wait()).toEqual([null, 'signal', 9]);
    p.close();
    expect(typeof p.pid).toBe('number');
    expect(p.closed).toBe(true);
  });

  it('IpcError is the one exported by @luaipc/filelike', async () => {
    const { IpcError: Shared } = await import('@luaipc/filelike');
    expect(IpcError).toBe(Shared);
  });
});
