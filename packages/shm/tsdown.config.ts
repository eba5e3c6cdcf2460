import { defineConfig } from 'tsdown';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  platform: 'node',
  target: 'node20',
  // The loader locates the addon from import.meta.url; the CommonJS build needs its shim.
  shims: true,
  clean: true,
});
