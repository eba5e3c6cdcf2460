import { closeSync, openSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { nodeArgTypeMessage, nodeRangeReceived } from '@luaipc/testing';
import { describe, expect, it } from 'vitest';
import { EOF, Process, spawn } from '../src/index.js';
import { processes, recorder } from './helpers.js';

/** Node's ERR_INVALID_ARG_TYPE for `name` (its wording from @luaipc/testing). */
function typeError(name: string, expected: string, value: unknown) {
  return expect.objectContaining({
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_TYPE',
    message: nodeArgTypeMessage(name, expected, value),
  });
}

function valueError(message: string) {
  return expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message });
}

function rangeError(name: string, range: string, value: number) {
  return expect.objectContaining({
    name: 'RangeError',
    code: 'ERR_OUT_OF_RANGE',
    message: `The value of "${name}" is out of range. It must be ${range}.${nodeRangeReceived(value)}`,
  });
}

const call = (cmd: unknown, options?: unknown) => () =>
  spawn(cmd as string, options as Parameters<typeof spawn>[1]);

describe('spawn(cmd)', () => {
  it('cmd must be a string or an array of strings', () => {
    for (const value of [undefined, null, 42, {}, Symbol('s'), () => 1]) {
      expect(call(value)).toThrow(
        typeError('cmd', 'of type string or an instance of Array', value),
      );
    }
    expect(call([])).toThrow(valueError("The argument 'cmd' must not be empty. Received []"));
    expect(call(['ls', 1])).toThrow(typeError('cmd[1]', 'of type string', 1));
    expect(call([null])).toThrow(typeError('cmd[0]', 'of type string', null));
    expect(call([''])).toThrow(valueError("The argument 'cmd[0]' must not be empty. Received ''"));
  });

  it('every element of cmd is checked: holes, non-strings', () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is what is tested.
    expect(call(['echo', , 'x'])).toThrow(typeError('cmd[1]', 'of type string', undefined));
    // biome-ignore lint/suspicious/noSparseArray: the hole is what is tested.
    expect(call([, 'x'])).toThrow(typeError('cmd[0]', 'of type string', undefined));
    // biome-ignore lint/suspicious/noSparseArray: the hole is what is tested.
    expect(call(['echo', 'x', ,])).toThrow(typeError('cmd[2]', 'of type string', undefined));
    expect(call(new Array(3))).toThrow(typeError('cmd[0]', 'of type string', undefined));
    const sym = Symbol('s');
    for (const value of [undefined, 1, 1n, true, sym, {}, ['x'], new String('x'), () => 1]) {
      expect(call(['echo', 'a', value])).toThrow(typeError('cmd[2]', 'of type string', value));
    }
    expect(call(['echo', 'a', 'b\0'])).toThrow(
      valueError("The argument 'cmd[2]' must be a string without null bytes. Received 'b\\x00'"),
    );
  });

  // Node shows the value as util.inspect does (fs.openSync('a\0b'): "Received 'a\\x00b'").
  it('no NUL bytes in the command, its arguments, cwd or env', () => {
    expect(call('echo a\0b')).toThrow(
      valueError("The argument 'cmd' must be a string without null bytes. Received 'echo a\\x00b'"),
    );
    expect(call(['echo', 'a\0'])).toThrow(
      valueError("The argument 'cmd[1]' must be a string without null bytes. Received 'a\\x00'"),
    );
    expect(call(['true'], { cwd: '/tmp\0' })).toThrow(
      valueError(
        "The property 'options.cwd' must be a string without null bytes. Received '/tmp\\x00'",
      ),
    );
    expect(call(['true'], { env: { A: 'x\0' } })).toThrow(
      valueError(
        "The property 'options.env['A']' must be a string without null bytes. Received 'x\\x00'",
      ),
    );
    expect(call(['true'], { env: { 'A\0': 'x' } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });
});

describe('spawn options', () => {
  it('options must be an object', () => {
    for (const value of [null, 42, 'x', true]) {
      expect(call(['true'], value)).toThrow(typeError('options', 'of type object', value));
    }
  });

  it('stdin/stdout/stderr: boolean, descriptor or FileHandle', () => {
    for (const stream of ['stdin', 'stdout', 'stderr']) {
      for (const value of ['pipe', {}, [], 1n]) {
        expect(call(['true'], { [stream]: value, callback: () => {} })).toThrow(
          typeError(
            `options.${stream}`,
            'of type boolean or number or an instance of FileHandle',
            value,
          ),
        );
      }
      for (const value of [-1, 1.5, 2 ** 31, Number.NaN]) {
        expect(call(['true'], { [stream]: value })).toThrow(
          rangeError(`options.${stream}`, 'an integer >= 0 and <= 2147483647', value),
        );
      }
    }
  });

  it("a FileHandle's fd is checked as a descriptor number is, naming options.<stream>.fd", () => {
    const fd = openSync('/dev/null', 'r');
    try {
      for (const stream of ['stdin', 'stdout', 'stderr']) {
        // Each of these once handed descriptor `fd` itself to the child.
        for (const value of [fd + 0.5, 2 ** 32 + fd, -(2 ** 32) + fd, 2 ** 31, -2, Number.NaN]) {
          expect(call(['true'], { [stream]: { fd: value } })).toThrow(
            rangeError(`options.${stream}.fd`, 'an integer >= 0 and <= 2147483647', value),
          );
        }
      }
    } finally {
      closeSync(fd);
    }
  });

  it('a closed descriptor or FileHandle is IpcError EBADF', async () => {
    const fd = openSync('/dev/null', 'r');
    closeSync(fd);
    for (const stream of ['stdin', 'stdout', 'stderr']) {
      // The closed number must not be taken by a descriptor spawn() opens for itself (its
      // wake-up descriptor, the other streams' pipes) and handed to the child.
      const options = { stdin: true, stdout: true, stderr: true, [stream]: fd, callback: () => {} };
      expect(call(['true'], options)).toThrow(
        expect.objectContaining({ name: 'IpcError', code: 'EBADF', syscall: 'dup2' }),
      );
    }
    expect(call(['true'], { stderr: 9999 })).toThrow(expect.objectContaining({ code: 'EBADF' }));
    const handle = await openFile('/dev/null', 'r');
    await handle.close();
    expect(call(['true'], { stdout: handle })).toThrow(
      expect.objectContaining({ name: 'IpcError', code: 'EBADF', syscall: 'dup2' }),
    );
  });

  it('callback: a function, required when stdout or stderr is piped', () => {
    for (const options of [{ stdout: true }, { stderr: true }, { stdout: true, stderr: true }]) {
      expect(call(['true'], options)).toThrow(
        typeError('options.callback', 'of type function', undefined),
      );
    }
    expect(call(['true'], { callback: 'x' })).toThrow(
      typeError('options.callback', 'of type function', 'x'),
    );
    // Not needed without piped output.
    expect(spawn(['true'], { stdin: true }).waitSync()).toEqual([true, 'exit', 0]);
  });

  it('cwd: a string or a URL', () => {
    for (const value of [42, null, {}]) {
      expect(call(['true'], { cwd: value })).toThrow(
        typeError('options.cwd', 'of type string or an instance of URL', value),
      );
    }
  });

  it('env: an object (not an execve-style array); values are made strings, Symbols refused', () => {
    for (const value of [null, 'A=1', 42, ['A=1'], []]) {
      expect(call(['true'], { env: value })).toThrow(
        typeError('options.env', 'of type object', value),
      );
    }
    const sym = Symbol('s');
    expect(call(['true'], { env: { A: '1', B: sym } })).toThrow(
      typeError("options.env['B']", 'of type string', sym),
    );
    const { text, callback } = recorder();
    const env = { N: 1, T: true, O: { toString: () => 'o' }, U: undefined };
    const p = spawn(['/usr/bin/env'], {
      env: env as unknown as Record<string, string>,
      stdout: true,
      callback,
    });
    expect(p.waitSync()).toEqual([true, 'exit', 0]);
    expect(text.stdout).toBe('N=1\nT=true\nO=o\n');
  });

  it("encoding: 'utf8', 'latin1' or 'buffer'", () => {
    for (const value of ['hex', 'utf-16le', 42]) {
      expect(call(['true'], { encoding: value })).toThrow(
        valueError(
          `The property 'options.encoding' must be one of 'utf8', 'latin1', 'buffer'. Received ${
            typeof value === 'string' ? `'${value}'` : value
          }`,
        ),
      );
    }
  });

  it('group: a boolean', () => {
    expect(call(['true'], { group: 'yes' })).toThrow(
      typeError('options.group', 'of type boolean', 'yes'),
    );
  });

  it('bad input starts no process', () => {
    const children = () => processes().filter((q) => q.ppid === process.pid).length;
    const before = children();
    expect(call(['sleep', '1'], { stdout: true })).toThrow(TypeError);
    expect(call(['sleep', '1'], { stdout: -1 })).toThrow(RangeError);
    expect(children()).toBe(before);
  });

  it('a Process cannot be constructed by user code', () => {
    const Ctor = Process as unknown as new (...args: unknown[]) => unknown;
    expect(() => new Ctor(Symbol('x'), {})).toThrow(
      expect.objectContaining({
        name: 'TypeError',
        code: 'ERR_ILLEGAL_CONSTRUCTOR',
        message: 'Illegal constructor: Process handles are made by spawn(cmd, options)',
      }),
    );
  });
});

describe('Process methods', () => {
  it('write: strings, ArrayBufferViews and EOF only', () => {
    const p = spawn(['cat'], { stdin: true });
    for (const value of [42, null, {}, [1], new ArrayBuffer(2)]) {
      expect(() => p.write(value as string)).toThrow(
        typeError('chunks[0]', 'of type string or an instance of ArrayBufferView or EOF', value),
      );
    }
    expect(() => p.write('ok', 7 as unknown as string)).toThrow(
      typeError('chunks[1]', 'of type string or an instance of ArrayBufferView or EOF', 7),
    );
    p.write(EOF);
    expect(p.waitSync()).toEqual([true, 'exit', 0]);
  });

  it('write after EOF throws ERR_STREAM_WRITE_AFTER_END; a bad call writes nothing', () => {
    const rec = recorder();
    const p = spawn(['cat'], { stdin: true, stdout: true, callback: rec.callback });
    const afterEnd = expect.objectContaining({
      name: 'Error',
      code: 'ERR_STREAM_WRITE_AFTER_END',
      message: 'write after end',
    });
    expect(() => p.write('a', EOF, 'b')).toThrow(afterEnd);
    expect(() => p.write('c', 42 as unknown as string)).toThrow(TypeError);
    p.write('d', EOF);
    expect(() => p.write('e')).toThrow(afterEnd);
    expect(() => p.write(EOF)).toThrow(afterEnd);
    expect(p.waitSync()).toEqual([true, 'exit', 0]);
    expect(rec.text.stdout).toBe('d');
  });

  it('write when stdin is not piped throws ERR_INVALID_STATE', () => {
    const p = spawn(['true']);
    expect(() => p.write('x')).toThrow(
      expect.objectContaining({
        name: 'Error',
        code: 'ERR_INVALID_STATE',
        message: 'Invalid state: stdin is not piped (spawn with { stdin: true })',
      }),
    );
    p.waitSync();
  });

  it('kill: a known signal name or a number', () => {
    const p = spawn(['sleep', '5']);
    try {
      for (const name of ['bogus', 'SIGBOGUS', 'sigterm', '']) {
        expect(() => p.kill(name)).toThrow(
          expect.objectContaining({
            name: 'TypeError',
            code: 'ERR_UNKNOWN_SIGNAL',
            message: `Unknown signal: ${name}`,
          }),
        );
      }
      for (const value of [null, {}, true]) {
        expect(() => p.kill(value as unknown as string)).toThrow(
          typeError('signal', 'of type string or number', value),
        );
      }
      for (const value of [-1, 1.5]) {
        expect(() => p.kill(value)).toThrow(
          rangeError('signal', 'an integer >= 0 and <= 2147483647', value),
        );
      }
      // An out-of-range signal number is the OS's EINVAL.
      expect(() => p.kill(1000)).toThrow(
        expect.objectContaining({ name: 'IpcError', code: 'EINVAL', syscall: 'kill' }),
      );
      // Signal 0 only checks.
      p.kill(0);
    } finally {
      p.kill('kill');
      p.waitSync();
    }
  });

  it('wait: an options object with an AbortSignal; errors reject', async () => {
    const p = spawn(['true']);
    await expect(p.wait(42 as unknown as object)).rejects.toThrow(
      typeError('options', 'of type object', 42),
    );
    await expect(p.wait({ signal: 'x' as unknown as AbortSignal })).rejects.toThrow(
      typeError('options.signal', 'an instance of AbortSignal', 'x'),
    );
    expect(await p.wait({})).toEqual([true, 'exit', 0]);
  });
});
