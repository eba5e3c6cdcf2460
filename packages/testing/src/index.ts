// What the @luaipc test suites share. Test code only: a private workspace package, never
// published, never imported by a package at run time.

export {
  type Child,
  type ChildOptions,
  type ChildResult,
  runChild,
  runNode,
  startChild,
} from './child.js';
export { cleanup, onCleanup, tempDir } from './cleanup.js';
export { objectExists, objectPath, uniqueName } from './names.js';
export { nodeArgTypeMessage, nodeArgValueReceived, nodeRangeReceived } from './node-errors.js';
