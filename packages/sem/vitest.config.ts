import { nativePackageConfig } from '../../vitest.shared.js';

export default nativePackageConfig(['test/bad-input.test.ts']);
