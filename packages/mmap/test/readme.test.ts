// Every ```js example of the README runs as written (Node 20, the package imported by name, in a
// fresh directory) and prints what its comments say.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNode } from '@luaipc/native/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { pagesize } from '../src/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
// Fenced blocks, also indented ones inside list items.
const blocks = [...readme.matchAll(/^( *)```(js|ts)\n([\s\S]*?)^\1```/gm)].map((m) => ({
  lang: m[2] as string,
  code: (m[3] as string).replace(new RegExp(`^${m[1]}`, 'gm'), ''),
}));
const runnable = blocks.filter((b) => b.lang === 'js');
// Inside the package, so that `import '@luaipc/mmap'` resolves to it (self-reference).
const dir = join(root, 'test-results', `readme-${process.pid}`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const expected = [
  "alpha 1\nbeta 22\ngamma 333\n[ 'alpha ', 1 ]\n26 alpha\n",
  '0000000042!\n',
  `31\n987654321098765432109876543210\n765432\n`,
  '14a3433ca60d8521\nQuarterly numbers\nquarterly\nEBADF EBADF: permission denied, write\n',
  'hello from node\nhello from python\n',
  'true\n',
];

describe('README examples', () => {
  it('has the examples this test expects; the only ts block is the import list', () => {
    expect(runnable).toHaveLength(expected.length);
    const ts = blocks.filter((b) => b.lang === 'ts');
    expect(ts).toHaveLength(1);
    expect(ts[0]?.code).toMatch(/^import \{[\s\S]*\} from '@luaipc\/mmap';\n$/);
  });

  runnable.forEach(({ code }, i) => {
    it(`example ${i + 1} runs on Node 20 and prints what it says`, async () => {
      expect(code).not.toMatch(/\busing\b/);
      const cwd = join(dir, String(i + 1));
      mkdirSync(cwd, { recursive: true });
      const script = join(cwd, 'example.mjs');
      writeFileSync(script, code);
      const r = await runNode(script, [], { cwd, timeoutMs: 60_000 });
      expect(r.stderr).toBe('');
      expect(r).toMatchObject({ code: 0, signal: null, stdout: expected[i] });
    });
  });

  it('states the page size of this machine where it gives one', () => {
    expect([4096, 16384, 65536]).toContain(pagesize);
  });
});
