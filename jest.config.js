/** @type {import('jest').Config} */
module.exports = {
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
