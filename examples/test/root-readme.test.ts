// The root README's LuaIPC ↔ @luaipc table lists every call of LuaIPC's reference, and keeps
// the two commands a newcomer starts with.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(`${root}/README.md`, 'utf8');

// The calls of LuaIPC's reference (its "*   `call ==> result`" lines), as of the version ported.
const LUAIPC_CALLS = [
  'shm.create( name, size )',
  'shm.attach( name )',
  'h:size()',
  'h:addr()',
  'h:truncate( bytes )',
  'sem.open( name [, n] )',
  'h:inc()',
  'h:dec( [timeout] )',
  'h:close()',
  'mmap.pagesize',
  'mmap.open( filepath [, mode [, offset [, size]]] )',
  'filelock.lock( file, mode [, offset [, nbytes]] )',
  'filelock.trylock( file, mode [, offset [, nbytes]] )',
  'filelock.unlock( file [, offset [, nbytes]] )',
  'proc.spawn( cmd, options )',
  'proc.EOF',
  'h:write( ... )',
  'h:kill( "term"/"kill" )',
  'h:wait()',
  'strfile.open( str )',
];
// The reference itself, where the project's shared folder sits beside the repository.
const reference = `${root}/../shared/LuaIPC-README.md`;

const squeeze = (s: string) => s.replace(/\s+/g, '');

describe('root README', () => {
  it('starts with the two commands', () => {
    const commands = /^```sh\n([\s\S]*?)```/m.exec(readme)?.[1]?.split('\n') ?? [];
    expect(commands[0]).toMatch(/^npx -y pnpm@12\.4\.2 install && npx -y pnpm@12\.4\.2 demo\b/);
    expect(commands[1]).toMatch(/^npx -y pnpm@12\.4\.2 install && npx -y pnpm@12\.4\.2 test\b/);
  });

  it.runIf(existsSync(reference))('knows every call of the LuaIPC reference', () => {
    const calls = [
      ...readFileSync(reference, 'utf8').matchAll(/^\*\s+`([^`]*?)(?:\s*==>[^`]*)?`/gm),
    ].map((m) => m[1] as string);
    expect(new Set(calls.map(squeeze))).toEqual(new Set(LUAIPC_CALLS.map(squeeze)));
  });

  it('has a row for every LuaIPC call in its LuaIPC ↔ @luaipc table', () => {
    const start = readme.indexOf('## LuaIPC ↔ @luaipc');
    expect(start).toBeGreaterThan(0);
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    const rows = section.split('\n').filter((l) => l.startsWith('| `'));
    const first = new Set(rows.map((r) => squeeze(/`([^`]*)`/.exec(r)?.[1] ?? '')));
    for (const call of LUAIPC_CALLS) expect(first, call).toContain(squeeze(call));
    // Each row names its counterpart (a code span in the second column).
    for (const row of rows) expect(row.split('|')[2], row).toMatch(/`[^`]+`/);
  });
});
