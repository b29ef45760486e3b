// onnxruntime-node checks tensor data with `instanceof Float32Array` against the constructors of
// Node's main realm; jest gives each test file its own realm, so hand the main realm's over.
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Buffer',
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
  'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];

// Tests run the TypeScript sources: worker threads they start compile them with the same hook.
process.env.KRYPTON_TYPESCRIPT_HOOK = require.resolve('./register-typescript.js');

class NodeRealmEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.global.process.env.KRYPTON_TYPESCRIPT_HOOK = process.env.KRYPTON_TYPESCRIPT_HOOK;
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = NodeRealmEnvironment;
