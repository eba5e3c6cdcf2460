import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../vitest.shared.js';

// The suites start many processes each (the showcase, every README example): one file at a time.
export default mergeConfig(shared, defineConfig({ test: { fileParallelism: false } }));
