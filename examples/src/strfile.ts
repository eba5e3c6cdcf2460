/**
 * @luaipc/strfile: Lua's file reading formats over bytes already in memory. The same handle
 * methods (FileLike) back shared memory and mapped files.
 */
import { readFileSync } from 'node:fs';
import { open } from '@luaipc/strfile';
import { dataFile, heading, isMain, note, show } from './show.js';

export const title = 'strfile: Lua file formats over bytes in memory';

export function run(): void {
  const log = readFileSync(dataFile('app.log'));

  heading("lines(): every line, like Lua's `for line in f:lines()`");
  note(`data/app.log (${log.length} bytes), opened with open(buffer); lines that are not INFO:`);
  const levels: Record<string, number> = {};
  for (const line of open(log).lines()) {
    const level = line.split(/\s+/)[2] ?? '?';
    levels[level] = (levels[level] ?? 0) + 1;
    if (level !== 'INFO') note(`  ${line}`);
  }
  show('lines per level', levels);

  heading("read('n', 'n', 'l'): two numbers, then the rest of the line");
  const readings = open(readFileSync(dataFile('readings.txt')));
  show("f.read('n')", readings.read('n'));
  note("'#' starts no numeral, so 'n' gives null; skip the header line:");
  show("f.read('l')", readings.read('l'));
  const temperatures: number[] = [];
  for (;;) {
    const row = readings.read('n', 'n', 'l');
    show("f.read('n', 'n', 'l')", row);
    if (row[0] === null) break;
    temperatures.push(row[0] as number);
  }
  note("decimals, exponents and hex parse as Lua 5.4's io.read('n'); at EOF the array stops");
  note('at the first null, as Lua stops at the first nil.');
  const mean = temperatures.reduce((a, b) => a + b, 0) / temperatures.length;
  note(`mean temperature: ${mean.toFixed(2)} °C`);

  heading("lines('L'): lines with their newline kept");
  let bytes = 0;
  let n = 0;
  for (const line of open(log).lines('L')) {
    if (n++ < 2) show(`line ${n}`, line);
    bytes += Buffer.byteLength(line);
  }
  note(`${n} lines, ${bytes} bytes together: the whole file, byte for byte`);

  heading('seek(whence, offset): the position, as in Lua');
  const f = open(log);
  show("f.seek('end')", f.seek('end'));
  const at = log.indexOf('ERROR');
  show(`f.seek('set', ${at})`, f.seek('set', at));
  show('f.read(5)', f.read(5));
  show("f.read('l')", f.read('l'));
  show('f.seek()', f.seek());

  heading("read('a'): everything from the position on");
  const rest = f.read('a');
  note(`f.read('a') returned ${rest.length} characters:`);
  for (const line of rest.trimEnd().split('\n')) note(`  ${line}`);
  show("f.read('a') at EOF", f.read('a'));
  show("f.read('l') at EOF", f.read('l'));
}

if (isMain(import.meta.url)) run();
