import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runNode } from './packages/testing/src/index.js';

export interface ReadmeBlock {
  lang: string;
  code: string;
}

/**
 * Declares the tests of a package's README examples: every fenced ```js block (also one
 * indented inside a list item) runs as written on this Node, as an ES module in a fresh
 * directory inside the package (so that `import '@luaipc/<name>'` resolves to the package
 * itself), exits cleanly and prints exactly `expected[i]`, what its comments say. The repository
 * wide README test runs them too; this one holds the printed values. Returns every fenced js/ts
 * block for further checks.
 *
 *   readmeExamples(new URL('..', import.meta.url), ['4000\n', ...]);
 */
export function readmeExamples(packageRoot: URL, expected: string[]): ReadmeBlock[] {
  const root = fileURLToPath(packageRoot);
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/^( *)```(js|ts)\n([\s\S]*?)^\1```/gm)].map((m) => ({
    lang: m[2] as string,
    code: (m[3] as string).replace(new RegExp(`^${m[1]}`, 'gm'), ''),
  }));
  const runnable = blocks.filter((b) => b.lang === 'js');
  const dir = join(root, 'test-results', `readme-${process.pid}`);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('README examples', () => {
    it('has the examples this test expects', () => {
      expect(runnable).toHaveLength(expected.length);
    });

    runnable.forEach(({ code }, i) => {
      it(`example ${i + 1} runs and prints what it says`, async () => {
        // `using` is a SyntaxError on Node 20, the oldest Node the packages support.
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
  });
  return blocks;
}
