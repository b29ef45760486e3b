const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

// Facts learnt by probing models are cached on disk between processes: a test run keeps its own,
// fresh each run, out of the user's cache (test/support/remove-cache.js removes it).
if (!process.env.KRYPTON_CACHE_DIR) process.env.KRYPTON_CACHE_DIR = mkdtempSync(join(tmpdir(), 'krypton-test-cache-'));

/** @type {import('jest').Config} */
module.exports = {
  globalTeardown: '<rootDir>/test/support/remove-cache.js',
  testEnvironment: '<rootDir>/test/support/node-realm-environment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['<rootDir>/test/support/swc-global-bindings.js', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  // chevrotain and its helpers ship as ES modules only; jest's module system needs them as CommonJS.
  transformIgnorePatterns: ['/node_modules/(?!(chevrotain|@chevrotain|lodash-es)/)'],
  // @chevrotain/* export only an `import` condition, which jest's CommonJS resolver ignores.
  moduleNameMapper: {
    '^@chevrotain/(.*)$': '<rootDir>/node_modules/@chevrotain/$1/lib/src/api.js',
    // grammar/chevrotain.ts loads chevrotain's single-file build, an ES module jest cannot require; the same release's entry point can be transformed.
    '/chevrotain/lib/chevrotain\\.mjs$': '<rootDir>/node_modules/chevrotain/lib/src/api.js',
    // Sources import siblings as './x.js' (what Node needs after compilation); jest reads the .ts.
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 120000,
};
