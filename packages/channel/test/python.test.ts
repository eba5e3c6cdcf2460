import { afterEach, describe, expect, it } from 'vitest';
import { connect, create } from '../src/index.js';
import { check, make } from './fixtures/pattern.mjs';
import {
  type Child,
  cleanup,
  expectExitedCleanly,
  fixture,
  runChild,
  sleep,
  startChild,
  uniqueName,
} from './helpers.js';

afterEach(cleanup);

// No __pycache__ beside the module and the fixtures.
const env = { PYTHONDONTWRITEBYTECODE: '1' };

const python = (script: string, args: string[]): Child =>
  startChild('python3', [fixture(script), ...args], { env });

describe('Python senders, Node receiver', () => {
  it('every message once and in order, beside a Node sender; doorbells and waits for room both ways', async () => {
    const name = uniqueName('pyrx');
    const rx = create(name, { capacity: 8192 });
    const count = 2000;
    const children = [
      python('py_send.py', [name, '0', String(count), 'send']),
      python('py_send.py', [name, '1', String(count), 'try']),
      startChild(process.execPath, [fixture('send.mjs'), name, '2', String(count), 'try']),
    ];
    try {
      const next = [0, 0, 0];
      for (let left = 3 * count; left > 0; left--) {
        // Slow now and then, so the senders find the ring full and wait for its doorbell.
        if (left % 500 === 0) await sleep(20);
        const msg = await rx.receive(30);
        if (msg === null) throw new Error(`stalled: ${next}`);
        const [s, seq] = check(msg);
        expect(seq).toBe(next[s]);
        next[s] = seq + 1;
      }
      await expectExitedCleanly(children);
      expect(rx.tryReceive()).toBeNull();
      expect(rx.senders).toBe(0);
    } finally {
      for (const c of children) c.kill();
      rx.close();
    }
  });
});

describe('Node senders, Python receiver', () => {
  it('every message once and in order; timeouts, senders and cleanup as in Node', async () => {
    const name = uniqueName('pytx');
    const count = 2000;
    const receiver = python('py_receive.py', [name, '8192', String(count), '3']);
    const children: Child[] = [receiver];
    try {
      await receiver.line('ready');
      children.push(
        startChild(process.execPath, [fixture('send.mjs'), name, '0', String(count), 'try']),
        startChild(process.execPath, [fixture('send.mjs'), name, '1', String(count), 'sync']),
      );
      const tx = connect(name);
      for (let seq = 0; seq < count; seq++) await tx.send(make(2, seq));
      tx.close();
      await expectExitedCleanly(children);
      const out = JSON.parse(await receiver.line('{'));
      expect(out).toEqual({
        next: [count, count, count],
        late: null,
        waited_timeout: true,
        senders: 0,
        try: null,
        left: [],
      });
    } finally {
      for (const c of children) c.kill();
    }
  });

  it('a Python receiver killed with SIGKILL: a Node send waiting for room rejects with EPIPE', async () => {
    const name = uniqueName('pykill');
    const receiver = python('py_idle.py', [name, '4096']);
    try {
      await receiver.line('ready');
      const tx = connect(name);
      while (tx.trySend(''));
      const pending = tx.send('x');
      await sleep(100);
      const t0 = performance.now();
      receiver.kill('SIGKILL');
      await expect(pending).rejects.toMatchObject({ code: 'EPIPE' });
      // Asked once a second (the idle bound); the rest is room for a loaded machine.
      expect(performance.now() - t0).toBeLessThan(1500);
      tx.close();
    } finally {
      receiver.kill();
    }
  });
});

describe("the Python module's errors", () => {
  const run = async (name: string, what: string) => {
    const r = await runChild('python3', [fixture('py_errors.py'), name, what], { env });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    return r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
  };

  it('a NaN timeout is a ValueError (it would wait for ever), a string one a TypeError', async () => {
    expect(await run(uniqueName('pynan'), 'nan')).toEqual([
      {
        receive: 'ValueError timeout must not be NaN',
        send: 'ValueError timeout must not be NaN',
        text: 'TypeError timeout must be None or a number of seconds, not str',
      },
    ]);
  });

  it('no channel, a plain segment, a name too long', async () => {
    expect(await run(uniqueName('pyerr'), 'missing')).toEqual([
      { connect: 'ENOENT', unlink: 'ENOENT', plain: 'EPROTO', long: 'ENAMETOOLONG' },
    ]);
  });

  it('a Python receiver frees a slot whose state is garbage and whose lock is free', async () => {
    expect(await run(uniqueName('pyslot'), 'garbage')).toEqual([
      { senders: 1, sent: true, received: 'after', third: 'EAGAIN' },
    ]);
  });

  it('a channel whose receiver was killed: ECONNREFUSED, EEXIST; unlink, then create', async () => {
    const name = uniqueName('pydead');
    const child = startChild(process.execPath, [fixture('receive.mjs'), name, '4096']);
    await child.line('ready');
    child.kill('SIGKILL');
    await child.done;
    expect(await run(name, 'dead')).toEqual([
      { connect: 'ECONNREFUSED', create: 'EEXIST', unlink: 'ok', recreated: 4096 },
    ]);
  });

  it('max_message, a full ring, a timed-out send, then room', async () => {
    const name = uniqueName('pyfull');
    const rx = create(name, { capacity: 4096 });
    const child = python('py_errors.py', [name, 'receiver']);
    try {
      const first = JSON.parse(await child.line('max_message'));
      expect(first).toEqual({
        max_message: 4092,
        too_big: 'ValueError message of 4093 bytes is longer than max_message (4092)',
        filled: 512,
        timed_out: false,
      });
      await sleep(200);
      expect(rx.tryReceive()).toEqual(Buffer.alloc(0));
      expect(JSON.parse(await child.line('sent'))).toEqual({ sent: true });
      await expectExitedCleanly([child]);
    } finally {
      child.kill();
      rx.close();
    }
  });
});
