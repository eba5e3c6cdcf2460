// What the types promise: the error helpers' errors carry their code, and every read format the
// runtime accepts (a leading `*`, whole words as Lua allows: `'*line'`, `'all'`) type-checks.
// Checked by `tsc` (pnpm typecheck); the runtime assertions check the same calls do what the
// types say.
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  closedError,
  FileLike,
  illegalConstructor,
  invalidArgType,
  invalidArgValue,
  outOfRange,
  withCode,
} from '../src/index.js';

describe('types', () => {
  it('the error helpers give errors typed with their code', () => {
    const range = outOfRange('x', 'an integer', 1.5);
    expectTypeOf(range).toEqualTypeOf<RangeError & { code: 'ERR_OUT_OF_RANGE' }>();
    expect(range.code).toBe('ERR_OUT_OF_RANGE');
    const closed = closedError();
    expectTypeOf(closed).toEqualTypeOf<Error & { code: 'ERR_IPC_CLOSED' }>();
    expect(closed.code).toBe('ERR_IPC_CLOSED');
    const type = invalidArgType('x', 'of type string', 1);
    expectTypeOf(type).toEqualTypeOf<TypeError & { code: 'ERR_INVALID_ARG_TYPE' }>();
    expect(type.code).toBe('ERR_INVALID_ARG_TYPE');
    const value = invalidArgValue('x', 1);
    expectTypeOf(value).toEqualTypeOf<TypeError & { code: 'ERR_INVALID_ARG_VALUE' }>();
    expect(value.code).toBe('ERR_INVALID_ARG_VALUE');
    const ctor = illegalConstructor('use open()');
    expectTypeOf(ctor).toEqualTypeOf<TypeError & { code: 'ERR_ILLEGAL_CONSTRUCTOR' }>();
    expect(ctor.code).toBe('ERR_ILLEGAL_CONSTRUCTOR');
    expectTypeOf(withCode(new Error('x'), 'E_X').code).toEqualTypeOf<'E_X'>();
  });

  it('read() and lines() take every spelling of a format Lua takes', () => {
    const f = new FileLike(Buffer.from('12 x\nline two\nrest'));
    const n = f.read('*number');
    expectTypeOf(n).toEqualTypeOf<number | null>();
    expect(n).toBe(12);
    const line = f.read('*line');
    expectTypeOf(line).toEqualTypeOf<string | null>();
    expect(line).toBe(' x');
    const keep = f.read('Line');
    expectTypeOf(keep).toEqualTypeOf<string | null>();
    expect(keep).toBe('line two\n');
    const all = f.read('*all');
    expectTypeOf(all).toEqualTypeOf<string>();
    expect(all).toBe('rest');
    expectTypeOf(f.read('*a', 'n', '*l', 3)).toEqualTypeOf<(string | number | null)[]>();
    f.seek('set');
    const lines = f.lines('*line');
    expectTypeOf(lines).toEqualTypeOf<IterableIterator<string>>();
    expect([...lines]).toEqual(['12 x', 'line two', 'rest']);
    f.seek('set');
    expectTypeOf(f.lines('*n')).toEqualTypeOf<IterableIterator<number>>();
    expect([...f.lines('*number')]).toEqual([12]);
    // What the runtime refuses does not type-check either.
    // @ts-expect-error: not a format
    expect(() => f.read('x')).toThrow("bad argument #1 to 'read' (invalid format)");
    // @ts-expect-error: one '*' only
    expect(() => f.read('**l')).toThrow("bad argument #1 to 'read' (invalid format)");
    // @ts-expect-error: nothing after the '*'
    expect(() => f.lines('*')).toThrow("bad argument #1 to 'lines' (invalid format)");
  });
});
