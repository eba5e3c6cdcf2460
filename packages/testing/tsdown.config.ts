import { defineConfig } from 'tsdown';
import shared from '../../tsdown.shared.ts';

// Test code only, imported by vitest suites and the Windows suites (plain ESM under Wine).
export default defineConfig({ ...shared, format: ['esm'] });
