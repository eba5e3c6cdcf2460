import { spawnSync } from 'node:child_process';
import {
  closeSync,
  lstatSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { addon } from '../src/binding.js';
import { connect, create, unlink } from '../src/index.js';
import {
  channelFiles,
  cleanup,
  fixture,
  ipcError,
  parseOk,
  runNode,
  uniqueName,
} from './helpers.js';

afterEach(cleanup);

/** Runs one attack of fixtures/hostile.mjs in a child process: it must exit cleanly (no signal). */
async function attack(what: string) {
  const name = uniqueName('host');
  const out = parseOk(await runNode(fixture('hostile.mjs'), [name, what], { timeoutMs: 30_000 }));
  return { name, out };
}

describe('names that are not channels', () => {
  it('a plain shm segment, one too small, one too large: IpcError, saying which', async () => {
    const { name, out } = await attack('not-a-channel');
    expect(out).toEqual({
      plain: `EPROTO EPROTO: not a channel: no channel header (wrong magic), connect '${name}'`,
      small: `EPROTO EPROTO: not a channel: too small, connect '${name}'`,
      huge: `EFBIG EFBIG: file too large, mmap '${name}'`,
    });
  });

  it('a header with a wrong magic, version or geometry is EPROTO; garbage elsewhere stays harmless', async () => {
    const { name, out } = await attack('header');
    const doesNotAddUp = `EPROTO EPROTO: not a channel: its header does not add up, connect '${name}'`;
    expect(out).toEqual({
      magic: `EPROTO EPROTO: not a channel: no channel header (wrong magic), connect '${name}'`,
      version: `EPROTO EPROTO: channel version 2, this one speaks version 1, connect '${name}'`,
      lanes: doesNotAddUp,
      capacity: doesNotAddUp,
      headerBytes: doesNotAddUp,
      maxMessage: doesNotAddUp,
      dir: doesNotAddUp,
      state: `ECONNREFUSED ECONNREFUSED: connection refused, connect '${name}'`,
      sendAfterGarbage: true,
      received: 'ok',
      senders: 1,
    });
  });
});

describe('a hostile peer', () => {
  it('garbage lengths and tails in a ring are dropped, bounded; the other senders go on', async () => {
    const { out } = await attack('ring');
    expect(out.got).toEqual(['honest 0', 'honest 1', 'honest 2', 'honest 3', 'honest 4']);
    expect(out.others).toBe(0);
    // No read of what the garbage announced (a GiB) and no loop over it.
    expect(out.ms).toBeLessThan(5000);
  });

  it("a receiver's head outside the ring is EPROTO at the sender, not a write outside it", async () => {
    const { name, out } = await attack('head');
    const err = `EPROTO EPROTO: the receiver wrote a head outside the ring, send '${name}'`;
    expect(out).toEqual({ send: err, again: err });
  });

  for (const [what, how] of [
    ['shrink', 'to its header page'],
    ['shrink-all', 'to nothing'],
  ] as const) {
    it(`a segment shrunk ${how} under both ends: IpcError ENXIO, never SIGBUS`, async () => {
      const { name, out } = await attack(what);
      const lost = (side: string) =>
        `ENXIO ENXIO: channel segment was truncated, ${side} '${name}'`;
      expect(out).toEqual({
        before: 'resolved before',
        receive: lost('read'),
        receiveAgain: lost('read'),
        pending: lost('read'),
        send: lost('send'),
        closed: true,
      });
    });
  }
});

describe("names beside the segment that are someone else's", () => {
  // A directory the build puts the lock file and doorbells in (the header's dir).
  const dir = () => (addon.DIR === 0 ? '/dev/shm' : '/tmp');

  for (const suffix of ['.lock', '.rx']) {
    it(`a file named <name>${suffix}: create() is EEXIST and leaves it as it was`, () => {
      const name = uniqueName('aux');
      const other = `${dir()}/${name}${suffix}`;
      writeFileSync(other, 'not the channel\n');
      try {
        expect(ipcError(() => create(name)).code).toBe('EEXIST');
        expect(readFileSync(other, 'utf8')).toBe('not the channel\n');
        // Nothing of the failed create is left, and the name is free once the file goes.
        expect(channelFiles(name)).toEqual([other]);
      } finally {
        rmSync(other, { force: true });
      }
      create(name).close();
    });
  }

  it("a FIFO named <name>.rx (another program's doorbell): create() is EEXIST and it stays", () => {
    const name = uniqueName('aux');
    const other = `${dir()}/${name}.rx`;
    expect(spawnSync('mkfifo', [other]).status).toBe(0);
    try {
      expect(ipcError(() => create(name)).code).toBe('EEXIST');
      expect(lstatSync(other).isFIFO()).toBe(true);
      expect(channelFiles(name)).toEqual([other]);
    } finally {
      rmSync(other, { force: true });
    }
    create(name).close();
  });

  it('a file named <name>.tx0: a send that waits for room fails EEXIST; nobody deletes it', async () => {
    const name = uniqueName('aux');
    const other = `${dir()}/${name}.tx0`;
    writeFileSync(other, 'not the channel\n');
    try {
      const rx = create(name, { capacity: 4096 });
      const tx = connect(name);
      tx.trySend(Buffer.alloc(4092));
      await expect(tx.send('x', 1)).rejects.toMatchObject({ code: 'EEXIST' });
      tx.close();
      rx.close();
      expect(readFileSync(other, 'utf8')).toBe('not the channel\n');
      const again = create(name);
      unlink(name);
      again.close();
      expect(readFileSync(other, 'utf8')).toBe('not the channel\n');
    } finally {
      rmSync(other, { force: true });
    }
  });
});

describe('slot states no peer writes', () => {
  it('a slot whose state is garbage and whose lock is free is freed again (no EAGAIN for good)', () => {
    const name = uniqueName('slot');
    const rx = create(name, { capacity: 4096, maxSenders: 2 });
    const tx = connect(name);
    // Slot 1: a state no peer writes, a tail that does not add up (as a hostile peer leaves it).
    const fd = openSync(`/dev/shm/${name}`, 'r+');
    const word = Buffer.alloc(4);
    for (const [at, value] of [
      [128 + 128 + 4, 0xdeadbeef],
      [128 + 128, 12345],
    ] as const) {
      word.writeUInt32LE(value);
      writeSync(fd, word, 0, 4, at);
    }
    closeSync(fd);
    expect(rx.senders).toBe(1);
    const second = connect(name);
    expect(second.trySend('after')).toBe(true);
    expect(String(rx.tryReceive())).toBe('after');
    expect(ipcError(() => connect(name)).code).toBe('EAGAIN');
    second.close();
    tx.close();
    rx.close();
  });
});
