// Every ```js example of the README runs as written (Node 20, the package imported by name) and
// prints what its comments say.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNode } from '@luaipc/native/testing';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1] as string);
// Inside the package, so that `import '@luaipc/proc'` resolves to it (self-reference).
const dir = join(root, 'test-results', `readme-${process.pid}`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const expected = [
  "[ true, 'exit', 0 ]\nHELLO, WORLD\n",
  "name?\nhello, Ada\n[ true, 'exit', 0 ]\n",
  "IpcError ENOENT posix_spawn\n[ true, 'exit', 0 ] /\n[ null, 'signal', 15 ]\n",
  `[ null, 'exit', 3 ]\n"one\\ntwo\\n"\n`,
  "TimeoutError\n[ null, 'signal', 15 ]\n",
];

describe('README examples', () => {
  it('has the examples this test expects', () => {
    expect(blocks).toHaveLength(expected.length);
  });

  blocks.forEach((code, i) => {
    it(`example ${i + 1} runs and prints what it says`, async () => {
      const cwd = join(dir, String(i + 1));
      mkdirSync(cwd, { recursive: true });
      const script = join(cwd, 'example.mjs');
      writeFileSync(script, code);
      const r = await runNode(script, [], { cwd, timeoutMs: 60_000 });
      expect(r.stderr).toBe('');
      expect(r).toMatchObject({ code: 0, signal: null, stdout: expected[i] });
    });
  });
});
