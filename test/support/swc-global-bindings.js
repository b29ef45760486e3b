// Jest runs every test file in a vm context, where each read of a global (Math, NaN, Float32Array…)
// goes through the context's property interceptor: on Node 20 a `Math.max` in a loop runs about a
// hundred times slower there than in plain Node. Binding the globals a module reads to module-level
// constants, once, makes those reads ordinary variable reads again; the values are the context's own
// (the typed-array constructors the test environment shares), so nothing else changes.
const { createTransformer } = require('@swc/jest');

const GLOBALS = [
  'Math', 'Number', 'Infinity', 'NaN', 'isFinite', 'isNaN', 'parseInt', 'parseFloat',
  'Array', 'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Buffer',
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
  'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
  'Object', 'String', 'Boolean', 'BigInt', 'Symbol', 'Map', 'Set', 'WeakMap', 'JSON', 'Date', 'Promise', 'Error', 'TypeError', 'RangeError',
];

/** The globals a module names as plain identifiers and does not declare itself. */
function globalsRead(code) {
  return GLOBALS.filter((name) => {
    if (!new RegExp(`(^|[^.\\w$])${name}\\b`).test(code)) return false;
    const declared = new RegExp(`\\b(const|let|var|function|class)\\s+${name}\\b|[{,]\\s*${name}\\s*[,}:=]`);
    return !declared.test(code);
  });
}

module.exports = {
  createTransformer(options) {
    const swc = createTransformer(options);
    const bind = (result) => {
      const names = globalsRead(result.code);
      if (names.length === 0) return result;
      // After the directive prologue (a 'use strict' must stay first), on its line: line numbers hold.
      const prologue = /^(\s*(["'])use strict\2;?)/.exec(result.code);
      const at = prologue ? prologue[1].length : 0;
      const binding = `const { ${names.join(', ')} } = globalThis;`;
      return { ...result, code: result.code.slice(0, at) + binding + result.code.slice(at) };
    };
    return {
      ...swc,
      process: (...args) => bind(swc.process(...args)),
      processAsync: swc.processAsync && (async (...args) => bind(await swc.processAsync(...args))),
      getCacheKey: (...args) => `${swc.getCacheKey(...args)}:global-bindings-1`,
    };
  },
};
