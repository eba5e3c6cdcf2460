import { fileURLToPath } from 'node:url';
import { nodeRangeReceived, runChild } from '@luaipc/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SIZE, open, pagesize } from '../src/index.js';
import { cleanup, tempFile } from './helpers.js';

// Programmer errors: Node's classes, codes and wording, thrown before anything is opened. One
// file serves every test, so it goes after the last.
let file: string;
beforeAll(() => {
  file = tempFile('some text\n');
});
afterAll(cleanup);
// biome-ignore lint/suspicious/noExplicitAny: the point is to pass what the types forbid
const openAny = open as (...args: any[]) => unknown;

const err = (name: string, code: string, message?: string) =>
  expect.objectContaining(message === undefined ? { name, code } : { name, code, message });

describe('bad arguments to open()', () => {
  it('path: a string, Buffer, Uint8Array or file: URL, without NUL bytes', () => {
    for (const path of [undefined, null, 42, 42n, {}, [], true, () => {}]) {
      expect(() => openAny(path)).toThrow(
        err(
          'TypeError',
          'ERR_INVALID_ARG_TYPE',
          expect.stringMatching(
            /^The "path" argument must be of type string or an instance of Buffer or URL\. Received /,
          ),
        ),
      );
    }
    expect(() => openAny('a\0b')).toThrow(
      err(
        'TypeError',
        'ERR_INVALID_ARG_VALUE',
        expect.stringContaining(
          "The argument 'path' must be a string, Uint8Array, or URL without null bytes.",
        ),
      ),
    );
    expect(() => openAny(Buffer.from('a\0b'))).toThrow(err('TypeError', 'ERR_INVALID_ARG_VALUE'));
    expect(() => openAny(new URL('http://example.com/x'))).toThrow(
      err('TypeError', 'ERR_INVALID_URL_SCHEME'),
    );
    expect(() => openAny(new URL('file:///tmp/a%2Fb'))).toThrow(
      err('TypeError', 'ERR_INVALID_FILE_URL_PATH'),
    );
  });

  it("mode: 'r', 'w' or 'rw'", () => {
    for (const mode of ['', 'a', 'r+', 'wr', 'R', null, 1, true]) {
      expect(() => openAny(file, mode)).toThrow(
        err(
          'TypeError',
          'ERR_INVALID_ARG_VALUE',
          expect.stringMatching(/^The argument 'mode' must be one of 'r', 'w', 'rw'\. Received /),
        ),
      );
    }
  });

  it('offset: an integer >= 0, a multiple of pagesize', () => {
    for (const offset of ['0', 0n, null, true]) {
      expect(() => openAny(file, 'r', offset)).toThrow(err('TypeError', 'ERR_INVALID_ARG_TYPE'));
    }
    for (const offset of [-pagesize, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(() => openAny(file, 'r', offset)).toThrow(err('RangeError', 'ERR_OUT_OF_RANGE'));
    }
    for (const offset of [1, pagesize - 1, pagesize + 1, 2 ** 32 + 1]) {
      expect(() => openAny(file, 'r', offset)).toThrow(
        err(
          'RangeError',
          'ERR_OUT_OF_RANGE',
          `The value of "offset" is out of range. It must be a multiple of pagesize (${pagesize}).${nodeRangeReceived(offset)}`,
        ),
      );
    }
  });

  it('size: an integer from 0 to MAX_SIZE', () => {
    for (const size of ['1', 1n, null]) {
      expect(() => openAny(file, 'r', 0, size)).toThrow(err('TypeError', 'ERR_INVALID_ARG_TYPE'));
    }
    for (const size of [-1, 1.5, Number.NaN, MAX_SIZE + 1, 2 ** 60]) {
      expect(() => openAny(file, 'r', 0, size)).toThrow(
        err(
          'RangeError',
          'ERR_OUT_OF_RANGE',
          `The value of "size" is out of range. It must be an integer >= 0 and <= ${MAX_SIZE}.${nodeRangeReceived(size)}`,
        ),
      );
    }
  });

  it('options: an object with a known encoding', () => {
    expect(() => openAny(file, 'r', 0, 0, 'utf8')).toThrow(
      err('TypeError', 'ERR_INVALID_ARG_TYPE'),
    );
    expect(() => openAny(file, { encoding: 'utf16le' })).toThrow(
      err('TypeError', 'ERR_INVALID_ARG_VALUE'),
    );
    // An object among the positional arguments, followed by more, is a wrong positional one.
    expect(() => openAny(file, 'r', {}, 10)).toThrow(err('TypeError', 'ERR_INVALID_ARG_TYPE'));
  });

  it('Lua methods word their argument errors as Lua does', () => {
    const h = openAny(file) as ReturnType<typeof open>;
    expect(() => h.read('x' as 'l')).toThrow("bad argument #1 to 'read' (invalid format)");
    expect(() => h.seek('top' as 'set')).toThrow(
      "bad argument #1 to 'seek' (invalid option 'top')",
    );
    expect(() => h.truncate(100)).toThrow(RangeError);
    h.close();
  });
});

describe('no addon', () => {
  it('importing the package throws ERR_IPC_NO_BINARY (there is no pagesize without it)', async () => {
    const dist = new URL('../dist/', import.meta.url);
    const script = `
      const show = (e) => console.log(e.code, e.message.includes('npx @luaipc/build @luaipc/mmap'));
      try { require(${JSON.stringify(fileURLToPath(new URL('index.cjs', dist)))}); console.log('required'); } catch (e) { show(e); }
      import(${JSON.stringify(new URL('index.mjs', dist).href)}).then(() => console.log('imported'), show);`;
    // A build folder that does not exist: the loader finds no addon to load.
    const r = await runChild(process.execPath, ['-e', script], {
      env: { LUAIPC_ADDON_DIR: 'no-such-build' },
    });
    expect(r).toMatchObject({ code: 0, signal: null, stderr: '' });
    expect(r.stdout).toBe('ERR_IPC_NO_BINARY true\nERR_IPC_NO_BINARY true\n');
  });
});
