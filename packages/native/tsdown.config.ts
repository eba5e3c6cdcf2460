import { defineConfig } from 'tsdown';
import shared from '../../tsdown.shared.ts';

// One entry per export (`.`, `/load`, `/args`, `/abort`) and the luaipc-build-addon command.
export default defineConfig({
  ...shared,
  entry: ['src/index.ts', 'src/load.ts', 'src/args.ts', 'src/abort.ts', 'src/build-addon.ts'],
});
