// Every ```js example of the README runs as written and prints what its comments say.
import { readmeExamples } from '../../../vitest.readme.js';

readmeExamples(new URL('..', import.meta.url), [
  '4000\n',
  'true\ntrue false\nfalse\ntrue\nAbortError\ntrue true\n',
]);
