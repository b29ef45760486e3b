/** Regenerates grammar/diagram.html after a grammar change: `node dist/grammar/write-diagram.js`. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIAGRAM_FILE, diagramHtml, grammarSourceDir } from './artifacts.js';

const target = join(grammarSourceDir(), DIAGRAM_FILE);
writeFileSync(target, diagramHtml());
console.log(`wrote ${target}`);
