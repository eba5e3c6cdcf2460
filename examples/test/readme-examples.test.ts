// Every fenced ```js, ```mjs and ```ts block of every README (the root's and each package's)
// runs as written on this Node (20, the floor) against the built packages, and must exit 0
// with nothing on stderr (so an error thrown in a child process it started fails it too).
//
// The convention, also stated in the root README ("README examples"):
// - A block runs on its own, as `example.mjs` in a fresh folder of a temporary project where
//   `@luaipc/<name>` resolves to packages/<name> (node_modules symlinks). TypeScript blocks are
//   compiled first with TypeScript's transpileModule (types dropped, nothing downlevelled:
//   `using` stays a SyntaxError on Node 20).
// - ```js file=worker.mjs: a peer file, written under that name beside the runnable block
//   before it, and not run itself.
// - ```js partial: a fragment that can't run alone (not run; a test keeps them few).
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNode } from '@luaipc/testing';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const packages = readdirSync(join(root, 'packages')).filter((p) =>
  existsSync(join(root, 'packages', p, 'package.json')),
);
const readmes = [
  'README.md',
  ...packages.map((p) => join('packages', p, 'README.md')).filter((f) => existsSync(join(root, f))),
];

interface Block {
  lang: string;
  info: Map<string, string | true>;
  code: string;
  line: number;
}

/** The fenced blocks of a markdown text (indented ones in lists too), with their info strings. */
function fencedBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const fence = /^( *)```(\w*)([^\n]*)\n([\s\S]*?)^\1```[ \t]*$/gm;
  for (const m of markdown.matchAll(fence)) {
    const indent = (m[1] as string).length;
    const info = new Map<string, string | true>();
    for (const word of (m[3] as string).trim().split(/\s+/).filter(Boolean)) {
      const eq = word.indexOf('=');
      info.set(eq < 0 ? word : word.slice(0, eq), eq < 0 ? true : word.slice(eq + 1));
    }
    const code = (m[4] as string)
      .split('\n')
      .map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)))
      .join('\n');
    blocks.push({
      lang: m[2] as string,
      info,
      code,
      line: markdown.slice(0, m.index).split('\n').length,
    });
  }
  return blocks;
}

const RUNNABLE = new Set(['js', 'mjs', 'ts']);

interface Example {
  readme: string;
  block: Block;
  peers: Block[];
}

function examplesOf(readme: string): Example[] {
  const out: Example[] = [];
  for (const block of fencedBlocks(readFileSync(join(root, readme), 'utf8'))) {
    if (!RUNNABLE.has(block.lang)) continue;
    if (block.info.has('file')) {
      const owner = out[out.length - 1];
      if (owner === undefined)
        throw new Error(`${readme}:${block.line}: a peer file with no example before it`);
      owner.peers.push(block);
    } else {
      out.push({ readme, block, peers: [] });
    }
  }
  return out;
}

function javascript(block: Block): string {
  if (block.lang !== 'ts') return block.code;
  return ts.transpileModule(block.code, {
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ESNext,
      verbatimModuleSyntax: false,
    },
  }).outputText;
}

// A project where `@luaipc/<name>` is packages/<name>, built, as an installed package would be.
const project = mkdtempSync(join(os.tmpdir(), 'luaipc-readme-'));
mkdirSync(join(project, 'node_modules', '@luaipc'), { recursive: true });
for (const p of packages) {
  symlinkSync(join(root, 'packages', p), join(project, 'node_modules', '@luaipc', p), 'dir');
}
writeFileSync(join(project, 'package.json'), '{ "private": true, "type": "module" }\n');
afterAll(() => rmSync(project, { recursive: true, force: true }));

/** shm and sem names written as literals in the code: the block must remove them again. */
function namesIn(code: string): Set<string> {
  return new Set([...code.matchAll(/['"]([\w.-]{1,60})['"]/g)].map((m) => m[1] as string));
}

function leftBehind(code: string, before: Set<string>): string[] {
  if (process.platform !== 'linux') return [];
  const names = namesIn(code);
  return readdirSync('/dev/shm').filter(
    (f) => !before.has(f) && (names.has(f) || (f.startsWith('sem.') && names.has(f.slice(4)))),
  );
}

const all = readmes.flatMap(examplesOf);

describe('README examples', () => {
  it('finds the examples of every README', () => {
    // native's README documents the loader for package authors (one fragment, not run); a
    // per-platform package's (one prebuilt binary) only sends readers to its package.
    const binaryOnly = (p: string) =>
      JSON.parse(readFileSync(join(root, 'packages', p, 'package.json'), 'utf8')).files?.every(
        (f: string) => f.endsWith('.node'),
      );
    const exempt = ['native', ...packages.filter(binaryOnly)].map((p) =>
      join('packages', p, 'README.md'),
    );
    for (const readme of readmes) {
      if (!exempt.includes(readme)) {
        expect(all.filter((e) => e.readme === readme).length, readme).toBeGreaterThan(0);
      }
    }
  });

  it('none uses `using` (a SyntaxError on Node 20)', () => {
    for (const { readme, block } of all) {
      expect(block.code, `${readme}:${block.line}`).not.toMatch(/^\s*(await\s+)?using\s+\w+\s*=/m);
    }
  });

  it('marks few blocks partial (fragments that are not run)', () => {
    const partial = all.filter(({ block }) => block.info.has('partial'));
    expect(
      partial.map(({ readme, block }) => `${readme}:${block.line}`).length,
    ).toBeLessThanOrEqual(2);
  });

  for (const [i, example] of all.entries()) {
    const { readme, block, peers } = example;
    const title = `${readme}:${block.line}${peers.length ? ` (with ${peers.map((p) => p.info.get('file')).join(', ')})` : ''}`;
    // Fragments marked partial are not run (see the test above that keeps them few).
    if (block.info.has('partial')) continue;
    it(`${title} runs`, async () => {
      const dir = join(project, `${i + 1}-${basename(dirname(join(root, readme)))}`);
      mkdirSync(dir);
      for (const peer of peers) {
        writeFileSync(join(dir, String(peer.info.get('file'))), javascript(peer));
      }
      const script = join(dir, 'example.mjs');
      writeFileSync(script, javascript(block));
      const shmBefore = new Set(process.platform === 'linux' ? readdirSync('/dev/shm') : []);
      const r = await runNode(script, [], { cwd: dir, timeoutMs: 60_000 });
      const left = leftBehind(block.code + peers.map((p) => p.code).join('\n'), shmBefore);
      for (const f of left) rmSync(join('/dev/shm', f), { force: true });
      expect(
        { code: r.code, signal: r.signal, timedOut: r.timedOut, stderr: r.stderr },
        `${relative(root, join(root, readme))}:${block.line}\n--- stdout:\n${r.stdout}`,
      ).toEqual({ code: 0, signal: null, timedOut: false, stderr: '' });
      expect(left, 'shared objects the example left behind').toEqual([]);
    });
  }
});
