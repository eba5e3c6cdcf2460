// `pnpm run docs`: TypeDoc builds the API reference of every package from the TSDoc comments, on
// this Node, offline (everything it needs comes from the lockfile's packages).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const out = mkdtempSync(join(os.tmpdir(), 'luaipc-docs-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('pnpm run docs', () => {
  it('builds a page for every package, without errors', () => {
    const manifest = createRequire(join(root, 'package.json')).resolve('typedoc/package.json');
    const typedoc = join(manifest, '..', 'bin', 'typedoc');
    const r = spawnSync(process.execPath, [typedoc, '--out', out, '--logLevel', 'Warn'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stderr + r.stdout).not.toMatch(/\[(error|warning)\]/);
    expect(r.status).toBe(0);
    const index = readFileSync(join(out, 'index.html'), 'utf8');
    for (const name of [
      'filelike',
      'strfile',
      'shm',
      'sem',
      'mmap',
      'filelock',
      'proc',
      'channel',
    ]) {
      expect(index, name).toContain(`@luaipc/${name}`);
      expect(existsSync(join(out, 'modules', `_luaipc_${name}.html`)), name).toBe(true);
    }
    // The front page introduces the project (docs/api-index.md) and links every module.
    expect(index).toContain('Portable inter-process communication for Node.js');
    const modules = readFileSync(join(out, 'modules.html'), 'utf8');
    const listed = [
      ...modules.matchAll(
        /<dt class="tsd-member-summary".*?<a href="(modules\/[^"]+)">([^<]+)<\/a>.*?<\/dt><dd class="tsd-member-summary">(.*?)<\/dd>/gs,
      ),
    ];
    expect(listed.map((m) => m[2])).toHaveLength(11);
    for (const [, href, name, summary] of listed) {
      expect(index, `${name} linked from the front page`).toContain(`href="${href}"`);
      // Each module has its one-line description (its @packageDocumentation comment).
      const text = summary?.replace(/<[^>]+>/g, '').trim() ?? '';
      expect(text.length, `${name} has a description`).toBeGreaterThan(20);
    }
    // The pages come from the TSDoc comments: one that every package has.
    expect(readFileSync(join(out, 'functions', '_luaipc_shm.create.html'), 'utf8')).toContain(
      'zero-filled',
    );
  });
});
