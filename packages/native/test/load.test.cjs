'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const native = require('..');
const { loadAddon } = require('../load.js');

test('include points at the headers', () => {
  for (const header of ['env.h', 'errors.h', 'waiter.h', 'handle.h']) {
    assert.ok(require('node:fs').existsSync(path.join(native.include, 'luaipc', header)), header);
  }
});

test('a missing addon lists every path tried and how to build it', () => {
  const from = path.join(__dirname, 'fixtures-none', 'dist', 'index.mjs');
  assert.throws(
    () => loadAddon({ name: 'nothing', from }),
    (error) => {
      const root = path.join(__dirname, 'fixtures-none');
      for (const p of [
        path.join(root, 'build', 'Release', 'nothing.node'),
        path.join(root, 'build', 'Debug', 'nothing.node'),
        path.join(root, 'dist', 'build', 'Release', 'nothing.node'),
      ]) {
        assert.ok(error.message.includes(p), `${p} in ${error.message}`);
      }
      assert.match(error.message, /pnpm --filter @luaipc\/nothing build/);
      return true;
    },
  );
});

test('file URLs are accepted as `from`', () => {
  const from = `file://${path.join(__dirname, 'x', 'src', 'binding.ts')}`;
  assert.throws(
    () => loadAddon({ name: 'nothing', from, packageName: '@x/y' }),
    /@x\/y: .*nothing\.node/,
  );
});
