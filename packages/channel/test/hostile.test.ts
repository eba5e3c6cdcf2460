import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fixture, parseOk, runNode, uniqueName } from './helpers.js';

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
