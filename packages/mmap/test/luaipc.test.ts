import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { pagesize } from '../src/index.js';
import { cleanup, fixture, runNode, tempPath } from './helpers.js';

afterEach(cleanup);

// LuaIPC's own mmap tests (tests/mmapcat.lua, tests/mmaprev.lua), ported line by line into
// fixtures and run as processes.
describe("LuaIPC's mmap test scripts", () => {
  it('mmapcat: lines(10) over a mapped file reproduces it; a write on an r map is refused', async () => {
    const self = fixture('mmapcat.mjs');
    const before = readFileSync(self, 'utf8');
    const r = await runNode(self);
    expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({
      code: 0,
      signal: null,
      stderr: '',
    });
    expect(r.stdout).toBe(
      `pagesize is ${pagesize}\nIpcError EBADF EBADF: permission denied, write\n${before}`,
    );
    expect(readFileSync(self, 'utf8')).toBe(before);
  });

  it('mmapcat reproduces a text of 10,000 lines with multi-byte characters and no final newline byte for byte', async () => {
    const file = tempPath('cat');
    const text = `${Array.from({ length: 10_000 }, (_, i) => `${i} \u00e9\u20ac\u{1f600}`).join('\n')}`;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, text);
    for (const encoding of ['buffer', 'latin1']) {
      const r = await runNode(fixture('mmapcat.mjs'), [file, encoding]);
      expect([r.code, r.signal, r.stderr]).toEqual([0, null, '']);
      expect(r.stdout.split('\n').slice(2).join('\n')).toBe(text);
    }
    // Decoded piece by piece as UTF-8, a 10-byte piece can end inside a character.
    const utf8 = await runNode(fixture('mmapcat.mjs'), [file, 'utf8']);
    expect(utf8.code).toBe(0);
    expect(utf8.stdout).toContain('\ufffd');
  });

  it("mmaprev: a 'w' map at offset pagesize reverses the digits", async () => {
    const file = tempPath('data.txt');
    const r = await runNode(fixture('mmaprev.mjs'), [file]);
    expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({
      code: 0,
      signal: null,
      stderr: '',
    });
    const spaces = ' '.repeat(pagesize);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`pagesize is ${pagesize}`);
    expect(lines[1]).toBe(`Contents of '${file}':`);
    expect(lines[2]).toBe(`${spaces}012345678901234567890123456789`);
    expect(lines[3]).toMatch(/^pointer: 0x[0-9a-f]+ size: 31$/);
    expect(lines.slice(4)).toEqual([
      'Data should be reversed now!',
      `Contents of '${file}':`,
      `${spaces}987654321098765432109876543210`,
      '',
    ]);
    expect(readFileSync(file, 'latin1')).toBe(`${spaces}${'9876543210'.repeat(3)}\n`);
  });
});
