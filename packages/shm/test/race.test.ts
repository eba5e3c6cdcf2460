import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fixture, parseOk, runNode, uniqueName } from './helpers.js';

afterEach(cleanup);

describe('text decoded while another process writes (issue 6, item 2)', () => {
  it("read('a'), read(n), lines(), 'l' and 'L' never crash V8, however the bytes change", async () => {
    // V8 reads UTF-8 twice (to size the string, then to fill it); a writer changing the bytes in
    // between overflowed the string (SIGSEGV within a second or two). Decoding a private copy
    // cannot.
    const name = uniqueName('utf8');
    const out = parseOk(
      await runNode(fixture('utf8-race.mjs'), [name, '4'], { timeoutMs: 60_000 }),
    );
    expect(out.a).toBeGreaterThan(50);
    expect(out.lines).toBeGreaterThan(out.a);
    expect(out.chars).toBeGreaterThan(0);
  });
});
