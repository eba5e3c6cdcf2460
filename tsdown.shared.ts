import { defineConfig } from 'tsdown';

/** Every package builds the same way: ESM + CommonJS with type declarations for Node 20. */
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  platform: 'node',
  target: 'node20',
  // Addon loaders locate their package from import.meta.url; the CommonJS build needs the shim.
  shims: true,
  clean: true,
});
