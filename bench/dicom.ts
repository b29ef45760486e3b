/**
 * DICOM against PNG: decoding one X-ray (16-bit, windowed) to the displayed image, at its own size
 * and resized to a 224×224 model input, alternating with the PNG of the same pixels; and LOAD
 * DICOM's header reading in files per second over a folder of copies. Bytes are in memory before
 * decoding is timed; tag loading is timed whole (glob, reads, parsing, DuckDB).
 *
 *   npm run bench:dicom [-- --runs 30 --copies 50]
 *
 * Writes bench/results/dicom.json.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatTable } from '../src/format/text-table.js';
import { decodeAndResize } from '../src/image/decode-image.js';
import { open } from '../src/krypton.js';
import { median } from './bench-support.js';

const ROOT = join(__dirname, '..', '..');
const DICOM_DIR = join(ROOT, 'data', 'images', 'chest-xray-hannover-dicom');
const PNG_DIR = join(ROOT, 'data', 'images', 'chest-xray-hannover', 'png');
const RESULTS = join(ROOT, 'bench', 'results');
/** 640×640 explicit VR 16-bit MONOCHROME1; 640×628 RLE Lossless; 640×524 implicit VR. */
const CASES = [
  { file: 'a2eba651', encoding: 'Explicit VR LE, 16-bit, MONOCHROME1 (640×640)' },
  { file: 'bb0e626a', encoding: 'RLE Lossless, 16-bit (640×628)' },
  { file: '9a9b2393', encoding: 'Implicit VR LE, 16-bit (640×524)' },
];
const WARMUP = 3;

function option(args: readonly string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  return at === -1 ? fallback : Number(args[at + 1]);
}

async function timeDecode(bytes: Buffer, label: string, width: number, height: number): Promise<number> {
  const start = performance.now();
  await decodeAndResize(bytes, label, width, height, 'stretch');
  return performance.now() - start;
}

async function decodeCase(file: string, runs: number) {
  const dicom = readFileSync(join(DICOM_DIR, `${file}.dcm`));
  const png = readFileSync(join(PNG_DIR, `${file}.png`));
  const { sourceWidth: width, sourceHeight: height } = await decodeAndResize(png, 'png', 224, 224, 'stretch');
  const times = { dicomFull: [] as number[], pngFull: [] as number[], dicom224: [] as number[], png224: [] as number[] };
  for (let run = 0; run < WARMUP + runs; run++) {
    const measured = [
      await timeDecode(dicom, `${file}.dcm`, width, height),
      await timeDecode(png, `${file}.png`, width, height),
      await timeDecode(dicom, `${file}.dcm`, 224, 224),
      await timeDecode(png, `${file}.png`, 224, 224),
    ];
    if (run < WARMUP) continue;
    times.dicomFull.push(measured[0]);
    times.pngFull.push(measured[1]);
    times.dicom224.push(measured[2]);
    times.png224.push(measured[3]);
  }
  return {
    dicomMs: median(times.dicomFull), pngMs: median(times.pngFull),
    dicom224Ms: median(times.dicom224), png224Ms: median(times.png224),
  };
}

async function tagLoading(copies: number, runs: number) {
  const folder = mkdtempSync(join(tmpdir(), 'krypton-bench-dicom-'));
  try {
    const names = readdirSync(DICOM_DIR).filter((f) => f.endsWith('.dcm'));
    for (let copy = 0; copy < copies; copy++) {
      const sub = join(folder, `copy${copy}`);
      mkdirSync(sub);
      for (const name of names) copyFileSync(join(DICOM_DIR, name), join(sub, name));
    }
    const files = copies * names.length;
    const db = await open(':memory:');
    const perSecond: number[] = [];
    try {
      for (let run = 0; run < runs; run++) {
        const start = performance.now();
        await db.query(`LOAD DICOM '${folder}/**/*.dcm' INTO tags_${run}`);
        perSecond.push(files / ((performance.now() - start) / 1000));
      }
    } finally {
      await db.close();
    }
    return { files, filesPerSecond: median(perSecond) };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const runs = option(args, '--runs', 30);
  const copies = option(args, '--copies', 50);
  const decoding = [];
  for (const { file, encoding } of CASES) decoding.push({ file, encoding, ...(await decodeCase(file, runs)) });
  const tags = await tagLoading(copies, 3);
  const ms = (value: number) => value.toFixed(1);
  console.log(formatTable(
    ['file', 'encoding', 'DICOM ms', 'PNG ms', 'ratio', 'DICOM → 224 ms', 'PNG → 224 ms'],
    decoding.map((d) => [d.file, d.encoding, ms(d.dicomMs), ms(d.pngMs), (d.dicomMs / d.pngMs).toFixed(2), ms(d.dicom224Ms), ms(d.png224Ms)]),
  ));
  console.log(`\nLOAD DICOM: ${tags.files} files, ${Math.round(tags.filesPerSecond)} files/s (median of 3; medians of ${runs} decodes above)`);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'dicom.json'), `${JSON.stringify({ runs, decoding, tags }, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
