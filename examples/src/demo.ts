/**
 * `pnpm demo`: runs every example in order. Add an example as src/<name>.ts exporting `title`
 * and `run()`, and list it here.
 */
import * as strfile from './strfile.js';

interface Example {
  title: string;
  run(): void | Promise<void>;
}

const examples: Example[] = [strfile];

console.log('@luaipc showcase: Lua-style IPC for Node.js');
for (const [i, example] of examples.entries()) {
  console.log(`\n${i + 1}. ${example.title}`);
  await example.run();
}
console.log(
  '\nThe code is in examples/src/; each example also runs alone: node examples/dist/<name>.js',
);
