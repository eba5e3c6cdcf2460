// The callback's data type follows `encoding`; the exit triple and EOF keep their exact types.
import { describe, expectTypeOf, it } from 'vitest';
import { EOF, type ExitResult, type Process, spawn } from '../src/index.js';

describe('types', () => {
  it('callback data is a string by default and with latin1, a Buffer with buffer', () => {
    spawn(['true'], {
      stdout: true,
      callback: (stream, data, message, code) => {
        expectTypeOf(stream).toEqualTypeOf<'stdout' | 'stderr'>();
        expectTypeOf(data).toEqualTypeOf<string | null>();
        expectTypeOf(message).toEqualTypeOf<string | undefined>();
        expectTypeOf(code).toEqualTypeOf<string | undefined>();
      },
    }).waitSync();
    spawn(['true'], {
      stdout: true,
      encoding: 'latin1',
      callback: (_stream, data) => expectTypeOf(data).toEqualTypeOf<string | null>(),
    }).waitSync();
    spawn(['true'], {
      stdout: true,
      encoding: 'buffer',
      callback: (_stream, data) => expectTypeOf(data).toEqualTypeOf<Buffer | null>(),
    }).waitSync();
  });

  it('results, EOF and the Process surface', async () => {
    const p = spawn(['cat'], { stdin: true, stdout: true, callback: () => {} });
    expectTypeOf(p).toEqualTypeOf<Process>();
    expectTypeOf(EOF).toEqualTypeOf<typeof EOF>();
    p.write('x', new Uint8Array(1), new DataView(new ArrayBuffer(1)), EOF);
    expectTypeOf(p.waitSync()).toEqualTypeOf<ExitResult>();
    expectTypeOf(await p.wait()).toEqualTypeOf<
      [ok: true | null, how: 'exit' | 'signal', code: number]
    >();
    expectTypeOf(p.pid).toEqualTypeOf<number>();
  });
});
