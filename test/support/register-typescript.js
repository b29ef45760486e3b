// Lets a plain Node child process of the tests require the TypeScript sources directly, compiled
// by @swc/core as jest does, so child-process tests run the code under test whether built or not.
const fs = require('node:fs');

// Worker threads the sources start (src/operators/worker-pool.ts) load them through this hook too.
process.env.KRYPTON_TYPESCRIPT_HOOK = __filename;
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
