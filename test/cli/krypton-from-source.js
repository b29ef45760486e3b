#!/usr/bin/env node
// `node bin/krypton.js` for the tests, reading the TypeScript sources (see register-typescript.js)
// instead of dist/, so child-process tests always run the code under test, built or not.
require('../support/register-typescript.js');

require('../../src/cli/main.ts').main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
