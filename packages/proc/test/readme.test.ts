// Every ```js example of the README runs as written and prints what its comments say.
import { readmeExamples } from '../../../vitest.readme.js';

readmeExamples(new URL('..', import.meta.url), [
  "[ true, 'exit', 0 ]\nHELLO, WORLD\n",
  "name?\nhello, Ada\n[ true, 'exit', 0 ]\n",
  "IpcError ENOENT posix_spawn\n[ true, 'exit', 0 ] /\n[ null, 'signal', 15 ]\n",
  `[ null, 'exit', 3 ]\n"one\\ntwo\\n"\n`,
  "TimeoutError\n[ null, 'signal', 15 ]\n",
]);
