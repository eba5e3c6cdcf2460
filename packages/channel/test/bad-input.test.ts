import { nodeArgTypeMessage, nodeArgValueReceived, nodeRangeReceived } from '@luaipc/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, create, IpcError, MAX_CAPACITY, MAX_SENDERS, unlink } from '../src/index.js';
import { channelFiles, cleanup, uniqueName } from './helpers.js';

afterEach(cleanup);

const notStrings: unknown[] = [undefined, null, 42, Symbol('s'), {}, ['a'], () => 1, 3n];

/** Node's ERR_INVALID_ARG_TYPE for `name` (its wording from @luaipc/testing). */
function nodeTypeError(name: string, expected: string, value: unknown) {
  return expect.objectContaining({
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_TYPE',
    message: nodeArgTypeMessage(name, expected, value),
  });
}

function nodeRangeError(name: string, range: string, value: number) {
  return expect.objectContaining({
    name: 'RangeError',
    code: 'ERR_OUT_OF_RANGE',
    message: `The value of "${name}" is out of range. It must be ${range}.${nodeRangeReceived(value)}`,
  });
}

describe('names', () => {
  for (const [fn, call] of [
    ['create', (n: unknown) => create(n as string)],
    ['connect', (n: unknown) => connect(n as string)],
    ['unlink', (n: unknown) => unlink(n as string)],
  ] as const) {
    it(`${fn}: wrong types are TypeErrors worded as Node's; bad names ERR_INVALID_ARG_VALUE`, () => {
      for (const value of notStrings) {
        expect(() => call(value)).toThrow(nodeTypeError('name', 'of type string', value));
      }
      const invalid = (reason: string, value: string) =>
        expect(() => call(value)).toThrow(
          expect.objectContaining({
            name: 'TypeError',
            code: 'ERR_INVALID_ARG_VALUE',
            message: `The argument 'name' ${reason}.${nodeArgValueReceived(value)}`,
          }),
        );
      invalid('must not be empty', '');
      for (const bad of ['/', 'a/b']) invalid("must not contain '/'", bad);
      invalid('must not contain null bytes', 'a\0b');
      invalid("must not be '.' or '..'", '..');
      for (const long of ['x'.repeat(249), 'x'.repeat(100_000)]) {
        let caught: unknown;
        try {
          call(long);
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(IpcError);
        expect(caught).toMatchObject({ code: 'ENAMETOOLONG', name: 'IpcError', path: long });
      }
    });
  }

  it("'sem.' names are refused on Linux (they are POSIX semaphores there)", () => {
    expect(() => create('sem.x')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });

  it('the longest name (248 bytes on Linux) works, doorbells included', async () => {
    // 248 = 255 (a file name) - ".tx1023", the longest doorbell suffix.
    const name = `${uniqueName('long')}-`.padEnd(248, 'n');
    const rx = create(name, { capacity: 4096 });
    const tx = connect(name);
    while (tx.trySend(''));
    expect(await tx.send('x', 0.01)).toBe(false); // the sender made its slot's doorbell
    expect(channelFiles(name).length).toBe(4);
    tx.close();
    rx.close();
    expect(channelFiles(name)).toEqual([]);
  });
});

describe('options', () => {
  it('options must be an object; capacity and maxSenders integers in range', () => {
    const name = uniqueName();
    for (const value of [null, 42, 'x', true] as unknown[]) {
      expect(() => create(name, value as object)).toThrow(
        nodeTypeError('options', 'of type object', value),
      );
    }
    for (const value of ['1', null, 1n, true] as unknown[]) {
      expect(() => create(name, { capacity: value as number })).toThrow(
        nodeTypeError('options.capacity', 'of type number', value),
      );
      expect(() => create(name, { maxSenders: value as number })).toThrow(
        nodeTypeError('options.maxSenders', 'of type number', value),
      );
    }
    for (const value of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, MAX_CAPACITY + 1]) {
      expect(() => create(name, { capacity: value })).toThrow(
        nodeRangeError('options.capacity', `an integer >= 1 and <= ${MAX_CAPACITY}`, value),
      );
    }
    for (const value of [0, 2.5, MAX_SENDERS + 1]) {
      expect(() => create(name, { maxSenders: value })).toThrow(
        nodeRangeError('options.maxSenders', `an integer >= 1 and <= ${MAX_SENDERS}`, value),
      );
    }
    expect(() => create(name, { encoding: 'hex' as 'utf8' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    // capacity x maxSenders beyond what one Buffer maps.
    expect(() => create(name, { capacity: MAX_CAPACITY, maxSenders: MAX_SENDERS })).toThrow(
      expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(channelFiles(name)).toEqual([]);
  });
});

describe('messages and waits', () => {
  it('data must be a string or an ArrayBufferView, everywhere', async () => {
    const name = uniqueName();
    const rx = create(name);
    const tx = connect(name);
    const expected = 'of type string or an instance of Buffer, TypedArray, or DataView';
    for (const value of [undefined, null, 42, {}, [1], new ArrayBuffer(4), 1n]) {
      const error = nodeTypeError('data', expected, value);
      expect(() => tx.trySend(value as string)).toThrow(error);
      expect(() => tx.sendSync(value as string, 0)).toThrow(error);
      await expect(tx.send(value as string)).rejects.toThrow(error);
    }
    expect(rx.tryReceive()).toBeNull();
    tx.close();
    rx.close();
  });

  it('a view whose buffer was transferred is ERR_INVALID_ARG_VALUE, everywhere', async () => {
    const name = uniqueName();
    const rx = create(name);
    const tx = connect(name);
    const bytes = new Uint8Array(8);
    const words = new Uint32Array(4);
    const view = new DataView(new ArrayBuffer(4));
    structuredClone([bytes.buffer, words.buffer, view.buffer], {
      transfer: [bytes.buffer, words.buffer, view.buffer],
    });
    for (const value of [bytes, words, view]) {
      const error = expect.objectContaining({
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_VALUE',
        message: expect.stringMatching(/^The argument 'data' must not be detached/),
      });
      expect(() => tx.trySend(value)).toThrow(error);
      expect(() => tx.sendSync(value, 0)).toThrow(error);
      await expect(tx.send(value)).rejects.toThrow(error);
    }
    // Empty views that are not detached are empty messages.
    expect(tx.trySend(new Uint8Array(0))).toBe(true);
    expect(tx.trySend(new DataView(new ArrayBuffer(0)))).toBe(true);
    expect(rx.tryReceive()).toEqual(Buffer.alloc(0));
    expect(rx.tryReceive()).toEqual(Buffer.alloc(0));
    expect(rx.tryReceive()).toBeNull();
    tx.close();
    rx.close();
  });

  it('timeouts: wrong types are TypeErrors, NaN a RangeError, negative and huge wait forever', async () => {
    const name = uniqueName();
    const rx = create(name);
    const tx = connect(name);
    for (const value of ['1', null, 1n, true] as unknown[]) {
      const error = nodeTypeError('timeout', 'of type number', value);
      expect(() => rx.receiveSync(value as number)).toThrow(error);
      await expect(rx.receive(value as number)).rejects.toThrow(error);
      expect(() => tx.sendSync('x', value as number)).toThrow(error);
      await expect(tx.send('x', value as number)).rejects.toThrow(error);
    }
    await expect(rx.receive({ timeout: '1' as unknown as number })).rejects.toThrow(
      nodeTypeError('options.timeout', 'of type number', '1'),
    );
    await expect(rx.receive({ signal: 'x' as unknown as AbortSignal })).rejects.toThrow(
      nodeTypeError('options.signal', 'an instance of AbortSignal', 'x'),
    );
    const nan = expect.objectContaining({
      name: 'RangeError',
      code: 'ERR_OUT_OF_RANGE',
      message:
        'The value of "timeout" is out of range. It must be a number of seconds. Received NaN',
    });
    expect(() => rx.receiveSync(Number.NaN)).toThrow(nan);
    await expect(rx.receive(Number.NaN)).rejects.toThrow(nan);
    expect(rx.tryReceive()).toBeNull();
    for (const t of [-1, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 1e300]) {
      const pending = rx.receive(t);
      tx.trySend('x');
      expect((await pending)?.toString()).toBe('x');
      tx.trySend('y');
      expect(rx.receiveSync(t)?.toString()).toBe('y');
    }
    tx.close();
    rx.close();
  });
});
