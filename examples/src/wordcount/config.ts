/**
 * wordcount.conf: `key = value` lines with Lua comments, parsed with @luaipc/strfile. Each
 * value is read with Lua's 'n' format, so `0x5eed`, `1e3` and `.5` are numbers as in Lua.
 */
import { readFileSync } from 'node:fs';
import { open } from '@luaipc/strfile';

export interface Config {
  workers: number;
  tasks: number;
  size: number;
  seed: number;
  top: number;
  slot: number;
}

export const DEFAULTS: Config = {
  workers: 0,
  tasks: 0,
  size: 128,
  seed: 0x5eed,
  top: 10,
  slot: 1024,
};

export function readConfig(path: string): Config {
  const config = { ...DEFAULTS };
  let lineNo = 0;
  for (const raw of open(readFileSync(path)).lines()) {
    lineNo++;
    const line = raw.replace(/--.*/, '').trim();
    if (line === '') continue;
    const m = /^(\w+)\s*=\s*(.*)$/.exec(line);
    const key = m?.[1] as keyof Config | undefined;
    if (m === null || key === undefined || !Object.hasOwn(DEFAULTS, key)) {
      throw new Error(
        `${path}:${lineNo}: expected one of ${Object.keys(DEFAULTS).join(', ')} = <number>`,
      );
    }
    const value = open(m[2] as string);
    const n = value.read('n');
    if (n === null || value.read('a').trim() !== '') {
      throw new Error(`${path}:${lineNo}: '${m[2]}' is not a number`);
    }
    config[key] = n;
  }
  return config;
}
