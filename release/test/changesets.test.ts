// `pnpm changeset version` on a copy of the workspace's manifests: each public package gets its
// own version and its own CHANGELOG entry; the private workspaces are never versioned.
import {
  cpSync,
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
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { publicPackages, repo, run } from './helpers.js';

const workspaces = [
  ...readdirSync(join(repo, 'packages')).map((name) => join('packages', name)),
  'bench',
  'examples',
  'release',
].filter((dir) => existsSync(join(repo, dir, 'package.json')));

const copies: string[] = [];
afterEach(() => {
  for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The manifests, CHANGELOGs and `.changeset/` of the workspace, in a temporary folder. */
function copyWorkspace(): string {
  const dir = mkdtempSync(join(os.tmpdir(), 'luaipc-changesets-'));
  copies.push(dir);
  for (const file of ['package.json', 'pnpm-workspace.yaml']) {
    cpSync(join(repo, file), join(dir, file));
  }
  cpSync(join(repo, '.changeset'), join(dir, '.changeset'), { recursive: true });
  for (const ws of workspaces) {
    mkdirSync(join(dir, ws), { recursive: true });
    for (const file of ['package.json', 'CHANGELOG.md']) {
      if (existsSync(join(repo, ws, file))) cpSync(join(repo, ws, file), join(dir, ws, file));
    }
  }
  // The changelog generator the config names is resolved from here.
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

function changesetVersion(dir: string): void {
  const cli = join(repo, 'node_modules', '@changesets', 'cli', 'bin.js');
  const r = run(process.execPath, [cli, 'version'], { cwd: dir });
  // Its one expected word on stderr: that nothing was pending.
  const stderr = r.stderr.replace(/^.*No unreleased changesets found, exiting\.\n?/m, '');
  expect([r.status, stderr]).toEqual([0, '']);
}

const manifest = (dir: string, ws: string) =>
  JSON.parse(readFileSync(join(dir, ws, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };

/** The pending changesets: which packages each bumps, and its text. */
function pending(dir: string): { bumps: Record<string, string>; text: string }[] {
  return readdirSync(join(dir, '.changeset'))
    .filter((f) => f.endsWith('.md') && f !== 'README.md')
    .map((f) => {
      const [, head = '', body = ''] = readFileSync(join(dir, '.changeset', f), 'utf8').split(
        /^---$/m,
      );
      const bumps: Record<string, string> = {};
      for (const m of head.matchAll(/^"([^"]+)": (major|minor|patch)$/gm)) {
        bumps[m[1] as string] = m[2] as string;
      }
      return { bumps, text: body.trim() };
    });
}

const parse = (v: string) => v.split('.').map(Number) as [number, number, number];
function later(a: string, b: string): boolean {
  const [x, y] = [parse(a), parse(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] as number) > (y[i] as number);
  return false;
}

describe('pnpm changeset version', () => {
  it('a change to one package versions that package alone, with its CHANGELOG entry', () => {
    const dir = copyWorkspace();
    for (const f of readdirSync(join(dir, '.changeset'))) {
      if (f.endsWith('.md') && f !== 'README.md') rmSync(join(dir, '.changeset', f));
    }
    writeFileSync(
      join(dir, '.changeset', 'one.md'),
      '---\n"@luaipc/strfile": patch\n---\n\nstrfile alone: a fix nobody else needs.\n',
    );
    const before = Object.fromEntries(workspaces.map((ws) => [ws, manifest(dir, ws).version]));
    changesetVersion(dir);
    const [major, minor, patch] = parse(before['packages/strfile'] as string);
    const next = `${major}.${minor}.${patch + 1}`;
    expect(manifest(dir, 'packages/strfile').version).toBe(next);
    const log = readFileSync(join(dir, 'packages', 'strfile', 'CHANGELOG.md'), 'utf8');
    expect(log).toMatch(
      new RegExp(
        `## ${next.replaceAll('.', '\\.')}\\s+### Patch Changes\\s+- [0-9a-f]*:? ?strfile alone`,
      ),
    );
    for (const ws of workspaces.filter((w) => w !== 'packages/strfile')) {
      expect([ws, manifest(dir, ws).version]).toEqual([ws, before[ws]]);
    }
    expect(existsSync(join(dir, '.changeset', 'one.md'))).toBe(false);
  });

  it("the repository's pending changesets version every package they name, each on its own", () => {
    const dir = copyWorkspace();
    const changes = pending(dir);
    const named = new Set(changes.flatMap((c) => Object.keys(c.bumps)));
    const before = Object.fromEntries(workspaces.map((ws) => [ws, manifest(dir, ws)]));
    changesetVersion(dir);
    if (named.size === 0) {
      // Right after a release nothing is pending: then nothing is versioned.
      for (const ws of workspaces) {
        expect([ws, manifest(dir, ws).version]).toEqual([ws, before[ws]?.version]);
      }
    }
    for (const ws of workspaces) {
      const { name, version } = before[ws] as { name: string; version: string };
      const after = manifest(dir, ws).version;
      const isPublic = publicPackages().includes(ws.replace('packages/', ''));
      if (!isPublic) {
        expect([name, after]).toEqual([name, version]);
        continue;
      }
      if (!named.has(name)) continue;
      expect([name, later(after, version)]).toEqual([name, true]);
      // Every pending text that names the package is in its CHANGELOG, under the new version.
      const log = readFileSync(join(dir, ws, 'CHANGELOG.md'), 'utf8');
      const entry = log.slice(log.indexOf(`## ${after}`));
      expect(log).toContain(`## ${after}`);
      for (const change of changes.filter((c) => name in c.bumps)) {
        const firstLine = change.text.split('\n')[0] as string;
        expect([name, entry.includes(firstLine)]).toEqual([name, true]);
      }
    }
  });
});
