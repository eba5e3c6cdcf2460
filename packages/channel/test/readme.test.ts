// Every ```js example of the README runs as written and prints what its comments say.
import { readmeExamples } from '../../../vitest.readme.js';

readmeExamples(new URL('..', import.meta.url), [
  '1000 1000 1000\n',
  '19900\n',
  '4092 true\nfalse\nfalse\ntrue later\nnull\nEPIPE\n',
]);
