// A separate Node process for the tests that need one: it loads the TypeScript sources through
// @swc/core (as jest does) and then either holds a database open or inserts until it is killed.
//   node store-child.js hold <db>     open the database, print "ready", wait
//   node store-child.js insert <db>   insert one image (3 classes) per call, print "done <i>" after each
const fs = require('node:fs');
const Module = require('node:module');
const { transformSync } = require('@swc/core');

// Sources import './x.js' while the file on disk is './x.ts'.
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  try {
    return resolveFilename.call(this, request, parent, ...rest);
  } catch (error) {
    if (!request.startsWith('.') || !request.endsWith('.js')) throw error;
    return resolveFilename.call(this, `${request.slice(0, -3)}.ts`, parent, ...rest);
  }
};
require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};

const { openStore } = require('../../src/store/index.ts');
const { childRecords } = require('./fixtures.ts');

async function main() {
  const [mode, database] = process.argv.slice(2);
  const store = await openStore(database);
  if (mode === 'hold') {
    process.stdout.write('ready\n');
    setInterval(() => undefined, 1000);
    return;
  }
  for (let image = 0; ; image++) {
    await store.insertHeatmaps('heatmaps', childRecords(image));
    process.stdout.write(`done ${image}\n`);
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
