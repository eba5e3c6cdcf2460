#!/usr/bin/env node
// Builds the package in the current folder with tsdown (its tsdown.config.ts), through tsdown's
// API: the same build as its CLI, without the CLI's notice that Node 20 support will end (Node
// 20 is our floor; the notice would greet every user who builds).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(join(process.cwd(), 'package.json'));
const { build } = await import(pathToFileURL(require.resolve('tsdown')).href);
await build({ logLevel: 'warn' });
