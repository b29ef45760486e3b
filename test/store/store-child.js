// A separate Node process for the tests that need one: it loads the TypeScript sources through
// @swc/core (as jest does) and then either holds a database open or inserts until it is killed.
//   node store-child.js hold <db>     open the database, print "ready", wait
//   node store-child.js insert <db>   insert one image (3 classes) per call, print "done <i>" after each
require('../support/register-typescript.js');

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
