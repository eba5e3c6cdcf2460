// Every ```js example of the README runs as written and prints what its comments say.
import { expect, it } from 'vitest';
import { readmeExamples } from '../../../vitest.readme.js';
import { pagesize } from '../src/index.js';

const blocks = readmeExamples(new URL('..', import.meta.url), [
  "alpha 1\nbeta 22\ngamma 333\n[ 'alpha ', 1 ]\n26 alpha\n",
  '0000000042!\n',
  `31\n987654321098765432109876543210\n765432\n`,
  '14a3433ca60d8521\nQuarterly numbers\nquarterly\nEBADF EBADF: permission denied, write\n',
  'hello from node\nhello from python\n',
  'true\n',
]);

it('the only ts block of the README is the import list', () => {
  const ts = blocks.filter((b) => b.lang === 'ts');
  expect(ts).toHaveLength(1);
  expect(ts[0]?.code).toMatch(/^import \{[\s\S]*\} from '@luaipc\/mmap';\n$/);
});

it('states the page size of this machine where it gives one', () => {
  expect([4096, 16384, 65536]).toContain(pagesize);
});
