/** Regenerates grammar/cst.d.ts after a grammar change: `node dist/grammar/write-cst-types.js`. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CST_TYPES_FILE, cstTypesText, grammarSourceDir } from './artifacts.js';

const target = join(grammarSourceDir(), CST_TYPES_FILE);
writeFileSync(target, cstTypesText());
console.log(`wrote ${target}`);
