import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { KryptonError } from '../../src/errors.js';
import { drawText, fillRect, textWidth } from '../../src/image/bitmap-font.js';
import type { RgbCanvas } from '../../src/image/bitmap-font.js';
import { TURBO_TABLE } from '../../src/image/colormap.js';
import { axisSamples, coveredArea, mapHeatmapGrid } from '../../src/image/heatmap-grid.js';
import { imagenetInputSpec } from '../../src/image/input-spec.js';
import { prepareImage } from '../../src/image/prepare-image.js';
import type { PreparedImage } from '../../src/image/prepare-image.js';
import { drawOverlay, formatDrop, overlayLayout, recordedScale, renderOverlay, wrapText } from '../../src/image/render-overlay.js';
import { modelToShownPixels } from '../../src/image/source-region.js';
import { shownImageFromBuffer } from '../../src/image/prepare-image.js';
import { readFileSync } from 'node:fs';
import type { HeatmapGrid } from '../../src/image/render-overlay.js';
import { KITTEN, XRAY, temporaryFolder } from './image-fixtures.js';

const temp = temporaryFolder('overlay');
afterAll(() => temp.remove());

let xray: PreparedImage;
beforeAll(async () => {
  xray = await prepareImage(XRAY, imagenetInputSpec({ channels: 'gray', channelCount: 3, scale: 255, mean: [0, 0, 0], std: [1, 1, 1] }));
});

/** A grid over part of a 224×224 image: patch 15 (odd, so centres fall on pixels), stride 8. */
function partialGrid(): HeatmapGrid {
  const width = 10;
  const height = 8;
  const values = new Float32Array(width * height).fill(0.9);
  values[3 * width + 4] = 0.2; // the cell the model relies on most
  values[6 * width + 8] = 0.95; // occluding here raises the probability
  return { width, height, values, patchWidth: 15, patchHeight: 15, strideX: 8, strideY: 8, originX: 40, originY: 30 };
}

async function decode(path: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  expect(info.channels).toBe(3);
  return { data, width: info.width, height: info.height };
}

function pixelAt(picture: { data: Uint8Array; width: number }, x: number, y: number): number[] {
  const i = 3 * (y * picture.width + x);
  return Array.from(picture.data.subarray(i, i + 3));
}

describe('renderOverlay', () => {
  test('writes a PNG of the expected size into a new folder; the image changes only where patches were', async () => {
    const out = join(temp.path, 'new/folder/xray.png');
    const grid = partialGrid();
    await renderOverlay(xray, grid, out, { baseProbability: 0.9 });
    const picture = await decode(out);
    const { layout } = drawOverlay(xray, grid, { baseProbability: 0.9 });
    expect([picture.width, picture.height]).toEqual([224, layout.height]);
    expect(layout.height).toBeGreaterThan(224 + 20);

    const area = coveredArea(grid, 224, 224);
    expect(area).toEqual({ x0: 40, y0: 30, x1: 40 + 9 * 8 + 15, y1: 30 + 7 * 8 + 15 });
    let changedInside = 0;
    let changedOutside = 0;
    for (let y = 0; y < 224; y++) {
      for (let x = 0; x < 224; x++) {
        const changed = pixelAt(picture, x, y + layout.imageY).join() !== pixelAt({ data: xray.display, width: 224 }, x, y).join();
        const inside = x >= area.x0 && x < area.x1 && y >= area.y0 && y < area.y1;
        if (changed && inside) changedInside++;
        if (changed && !inside) changedOutside++;
      }
    }
    expect(changedOutside).toBe(0);
    expect(changedInside).toBeGreaterThan(0.9 * (area.x1 - area.x0) * (area.y1 - area.y0));
  });

  test("on the image's own scale the biggest drop is the hot end of the colour map, the smallest the cold end", () => {
    const grid = partialGrid();
    const { canvas, layout, range } = drawOverlay(xray, grid, { baseProbability: 0.9, opacity: 1, scale: { kind: 'image' } });
    expect(range.min).toBeCloseTo(-0.05, 6);
    expect(range.max).toBeCloseTo(0.7, 6);
    const centre = (column: number, row: number) =>
      pixelAt(canvas, grid.originX + column * grid.strideX + 7, layout.imageY + grid.originY + row * grid.strideY + 7);
    expect(centre(4, 3)).toEqual(Array.from(TURBO_TABLE.subarray(255 * 3)));
    expect(centre(8, 6)).toEqual(Array.from(TURBO_TABLE.subarray(0, 3)));
    // An unchanged cell (drop 0) sits at 0.05 / 0.75 of the scale.
    const level = Math.round((0.05 / 0.75) * 255);
    expect(centre(0, 0)).toEqual(Array.from(TURBO_TABLE.subarray(3 * level, 3 * level + 3)));
  });

  test('without a base probability the highest value counts as no drop', () => {
    const grid = partialGrid();
    expect(drawOverlay(xray, grid, { scale: { kind: 'image' } }).range).toEqual({ min: 0, max: expect.closeTo(0.75, 6) });
  });

  test('the colour bar runs cold to hot and its min/max labels really render', () => {
    const image = { baseProbability: 0.9, scale: { kind: 'image' } } as const;
    const a = drawOverlay(xray, partialGrid(), image);
    const other = partialGrid();
    other.values[3 * other.width + 4] = 0.5;
    const b = drawOverlay(xray, other, image);
    const { layout } = a;
    const { bar } = layout;
    const barRow = bar.y + Math.floor(bar.height / 2);
    expect(pixelAt(a.canvas, bar.x, barRow)).toEqual(Array.from(TURBO_TABLE.subarray(0, 3)));
    expect(pixelAt(a.canvas, bar.x + bar.width - 1, barRow)).toEqual(Array.from(TURBO_TABLE.subarray(255 * 3)));

    const labelStrip = (canvas: RgbCanvas) => canvas.data.subarray(3 * layout.labelY * canvas.width, 3 * (layout.labelY + layout.lineHeight) * canvas.width);
    const textPixels = (strip: Uint8Array) => {
      let count = 0;
      for (let i = 0; i < strip.length; i += 3) if (strip[i] === 240 && strip[i + 1] === 240) count++;
      return count;
    };
    expect(textPixels(labelStrip(a.canvas))).toBeGreaterThan(100);
    // Same min label, different max label ('0.700' vs '0.400'): only the right end differs.
    expect(Buffer.from(labelStrip(a.canvas)).equals(Buffer.from(labelStrip(b.canvas)))).toBe(false);
    const leftEnd = (canvas: RgbCanvas) => [...Array(8 * layout.fontScale).keys()].map((dy) => pixelAt(canvas, bar.x + 2, layout.labelY + dy).join()).join('|');
    expect(leftEnd(a.canvas)).toBe(leftEnd(b.canvas));
  });

  test('a title adds a strip above the image and a small image gets a wider strip below', async () => {
    const titled = overlayLayout(224, 224, 'cxr: pa');
    expect(titled.imageY).toBeGreaterThan(0);
    expect(titled.height).toBe(overlayLayout(224, 224).height + titled.imageY);
    const small = overlayLayout(64, 64);
    expect(small.width).toBeGreaterThan(64);
    expect(small.imageX).toBe(Math.floor((small.width - 64) / 2));

    const kitten = await prepareImage(KITTEN, imagenetInputSpec({ width: 64, height: 64 }));
    const grid: HeatmapGrid = { width: 7, height: 7, values: Float32Array.from({ length: 49 }, (_, i) => i / 49), patchWidth: 16, patchHeight: 16, strideX: 8, strideY: 8, originX: 0, originY: 0 };
    const out = join(temp.path, 'small.png');
    const title = 'tabby cat, a title far too long for the picture';
    await renderOverlay(kitten, grid, out, { title });
    const picture = await decode(out);
    const { layout } = drawOverlay(kitten, grid, { title });
    expect([picture.width, picture.height]).toEqual([layout.width, layout.height]);
    // The title strip has text in it.
    const titleStrip = picture.data.subarray(0, 3 * layout.imageY * layout.width);
    expect(titleStrip.some((v) => v === 240)).toBe(true);
  });

  test('an unwritable path is an io error; bad input an argument error', async () => {
    const file = join(temp.path, 'plain-file');
    writeFileSync(file, 'x');
    await expect(renderOverlay(xray, partialGrid(), join(file, 'out.png'))).rejects.toMatchObject({
      code: 'io',
      message: expect.stringMatching(/^Cannot write heatmap overlay '.*out\.png': a parent of it is not a directory$/),
    });
    const folder = join(temp.path, 'a-folder.png');
    mkdirSync(folder);
    await expect(renderOverlay(xray, partialGrid(), folder)).rejects.toMatchObject({ code: 'io', message: expect.stringContaining('is a directory') });
    expect(statSync(folder).isDirectory()).toBe(true);

    const grid = partialGrid();
    await expect(renderOverlay(xray, { ...grid, values: grid.values.subarray(1) }, join(temp.path, 'x.png'))).rejects.toBeInstanceOf(KryptonError);
    expect(() => drawOverlay(xray, { ...grid, strideX: 0 })).toThrow(/strides must be positive/);
    expect(() => drawOverlay(xray, grid, { opacity: 2 })).toThrow(/opacity/);
    expect(() => drawOverlay({ ...xray, width: 100 }, grid)).toThrow(/display has/);
  });
});

describe('overlay building blocks', () => {
  test('axis sampling: values sit at patch centres and extend flat beyond the outer ones', () => {
    // patch 4, stride 2, origin 0, 3 cells: centres at 2, 4, 6
    const samples = axisSamples(0, 8, 0, 2, 4, 3);
    const at = (x: number) => samples.low[x] + samples.weight[x] * (samples.high[x] - samples.low[x]);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(at)).toEqual([0, 0, 0.25, 0.75, 1.25, 1.75, 2, 2]);
  });

  test('turbo table: the published end and middle colours', () => {
    expect(Array.from(TURBO_TABLE.subarray(0, 3))).toEqual([48, 18, 59]);
    expect(Array.from(TURBO_TABLE.subarray(128 * 3, 128 * 3 + 3))).toEqual([164, 252, 60]);
    expect(Array.from(TURBO_TABLE.subarray(255 * 3))).toEqual([122, 4, 3]);
  });

  test('bitmap text: the digit 1 is drawn where expected and scales', () => {
    const canvas: RgbCanvas = { width: 12, height: 16, data: new Uint8Array(12 * 16 * 3) };
    drawText(canvas, '1', 0, 0, 2, [255, 255, 255]);
    const lit = (x: number, y: number) => canvas.data[3 * (y * 12 + x)] === 255;
    // The stem of '1' is column 2 (font pixels), rows 0–6: output columns 4–5, rows 0–13.
    expect([lit(4, 0), lit(5, 13), lit(4, 14), lit(0, 0)]).toEqual([true, true, false, false]);
    // Its base serif (row 6) spans columns 1–3.
    expect([lit(2, 12), lit(7, 12), lit(9, 12)]).toEqual([true, true, false]);
    expect(textWidth('0.532', 2)).toBe((5 * 6 - 1) * 2);
    fillRect(canvas, 10, 14, 5, 5, [1, 2, 3]);
    expect(Array.from(canvas.data.subarray(3 * (15 * 12 + 11), 3 * (15 * 12 + 11) + 3))).toEqual([1, 2, 3]);
  });

  test('formatDrop', () => {
    expect([formatDrop(0.12345), formatDrop(-0.0001), formatDrop(-0.25)]).toEqual(['0.123', '0.000', '-0.250']);
  });
});

describe('overlay scale and caption', () => {
  /** A 4×4 grid over the 224×224 image, unchanged but for cell (1, 1), whose probability drops by `drop`; patch 57 puts centres on pixels. */
  function gridWithDrop(drop: number): HeatmapGrid {
    const values = new Float32Array(16).fill(0.9);
    values[5] = 0.9 - drop;
    return { width: 4, height: 4, values, patchWidth: 57, patchHeight: 57, strideX: 56, strideY: 56, originX: 0, originY: 0 };
  }
  const cellCentre = (canvas: RgbCanvas, imageY: number) => pixelAt(canvas, 56 + 28, imageY + 56 + 28);

  test('by default a colour is the drop itself: 0.002 of noise is nowhere near the colour of a 0.76 drop', () => {
    const noise = drawOverlay(xray, gridWithDrop(0.002), { baseProbability: 0.9, opacity: 1 });
    const real = drawOverlay(xray, gridWithDrop(0.76), { baseProbability: 0.9, opacity: 1 });
    expect(cellCentre(noise.canvas, noise.layout.imageY)).toEqual(Array.from(TURBO_TABLE.subarray(3, 6)));
    const level = Math.round(0.76 * 255);
    expect(cellCentre(real.canvas, real.layout.imageY)).toEqual(Array.from(TURBO_TABLE.subarray(3 * level, 3 * level + 3)));
  });

  test('a long caption over a narrow image wraps onto more lines instead of being cut', () => {
    const long = 'a-very-long-image-identifier-0123456789: pneumothorax, left upper lobe p=0.873';
    const oneLine = overlayLayout(64, 64, 'x');
    const wrapped = overlayLayout(64, 64, long);
    expect(wrapped.imageY).toBeGreaterThan(2 * oneLine.imageY);
    // Every character is on some line, and every line is drawn: text pixels in each line's rows.
    expect(wrapped.titleLines.join('').replace(/ /g, '')).toBe(long.replace(/ /g, ''));
    const small = { width: 64, height: 64, display: new Uint8Array(64 * 64 * 3) };
    const { canvas, layout } = drawOverlay(small, gridWithDrop(0.1), { title: long });
    expect(layout.titleLines).toEqual(wrapped.titleLines);
    const textInRows = (top: number, rows: number) => {
      let count = 0;
      for (let y = top; y < top + rows; y++) for (let x = 0; x < canvas.width; x++) if (pixelAt(canvas, x, y).join() === '240,240,240') count++;
      return count;
    };
    layout.titleLines.forEach((_, i) => expect(textInRows(layout.padding + i * (layout.lineHeight + layout.lineGap), layout.lineHeight)).toBeGreaterThan(0));
    // The legend too: patch, stride and scale, whole, under the bar.
    expect(layout.legendLines.join(' ')).toBe('patch 57x57, stride 56x56, scale absolute drop 0-1');
    layout.legendLines.forEach((_, i) => expect(textInRows(layout.legendY + i * (layout.lineHeight + layout.lineGap), layout.lineHeight)).toBeGreaterThan(0));
    expect(layout.legendY + layout.legendLines.length * (layout.lineHeight + layout.lineGap)).toBeLessThanOrEqual(layout.height);
  });

  test('wrapping: at spaces, a word longer than a line split', () => {
    expect(wrapText('ab cd efghijk l', 5)).toEqual(['ab cd', 'efghi', 'jk l']);
    expect(wrapText('', 5)).toEqual(['']);
  });

  test('a shared scale colours by the range given, the same for every image; the legend says which scale', () => {
    const shared = { kind: 'query', range: { min: 0, max: 0.5 } } as const;
    const { canvas, layout, range } = drawOverlay(xray, gridWithDrop(0.25), { baseProbability: 0.9, opacity: 1, scale: shared });
    expect(range).toEqual({ min: 0, max: 0.5 });
    const middle = Math.round(0.5 * 255);
    expect(cellCentre(canvas, layout.imageY)).toEqual(Array.from(TURBO_TABLE.subarray(3 * middle, 3 * middle + 3)));
    // A drop beyond the shared range is the hot end, not off the map.
    const beyond = drawOverlay(xray, gridWithDrop(0.8), { baseProbability: 0.9, opacity: 1, scale: shared });
    expect(cellCentre(beyond.canvas, beyond.layout.imageY)).toEqual(Array.from(TURBO_TABLE.subarray(255 * 3)));
    expect(layout.legendLines.join(' ')).toMatch(/scale shared by the query$/);
    expect(drawOverlay(xray, gridWithDrop(0.25), { scale: { kind: 'image' } }).layout.legendLines.join(' ')).toMatch(/scale of this image$/);
    expect(() => drawOverlay(xray, gridWithDrop(0.25), { scale: { kind: 'query', range: { min: 1, max: 0 } } })).toThrow(/shared scale needs finite ends/);
  });

  test('the PNG records its scale, so a rerun can tell an overlay drawn on another', async () => {
    const out = join(temp.path, 'scale-recorded.png');
    await renderOverlay(xray, gridWithDrop(0.25), out, { scale: { kind: 'query', range: { min: 0.125, max: 0.5 } } });
    expect(await recordedScale(out)).toBe('query 0.125 0.5');
    await renderOverlay(xray, gridWithDrop(0.25), out);
    expect(await recordedScale(out)).toBe('absolute');
    expect((await decode(out)).width).toBe(224);
  });
});

describe('overlays over the image at its own size', () => {
  const MODEL = { width: 224, height: 224 };

  test('the 640×524 X-ray is shown at 640×524; a grid over part of the model input lands on the same part of it', async () => {
    const shown = await shownImageFromBuffer(readFileSync(XRAY), XRAY);
    expect([shown.width, shown.height, shown.sourceWidth, shown.sourceHeight]).toEqual([640, 524, 640, 524]);
    const placement = modelToShownPixels({ ...MODEL, resize: 'stretch' }, { width: 640, height: 524 }, shown);
    const grid = partialGrid();
    const { canvas, layout } = drawOverlay(shown, grid, { baseProbability: 0.9, placement });
    expect(layout.width).toBe(640);
    const area = coveredArea(mapHeatmapGrid(grid, placement), 640, 524);
    // Model x 40..127 of 224 is x 114.3..362.9 of 640; model y 30..101 is y 70.2..236.3 of 524.
    expect(area).toEqual({ x0: 114, y0: 70, x1: 363, y1: 237 });
    let changedInside = 0;
    let changedOutside = 0;
    for (let y = 0; y < 524; y++) {
      for (let x = 0; x < 640; x++) {
        const changed = pixelAt(canvas, x, y + layout.imageY).join() !== pixelAt({ data: shown.display, width: 640 }, x, y).join();
        const inside = x >= area.x0 && x < area.x1 && y >= area.y0 && y < area.y1;
        if (changed && inside) changedInside++;
        if (changed && !inside) changedOutside++;
      }
    }
    expect(changedOutside).toBe(0);
    expect(changedInside).toBeGreaterThan(0.9 * (area.x1 - area.x0) * (area.y1 - area.y0));
  });

  test('cover maps the model input to the centre crop it saw, contain to the image inside the padding', () => {
    const source = { width: 640, height: 524 };
    // cover: scale 224/524; the model's 224 columns are the middle 524 of the 640.
    const cover = modelToShownPixels({ ...MODEL, resize: 'cover' }, source, source);
    expect(cover.scaleX).toBeCloseTo(524 / 224, 9);
    expect(cover.offsetX).toBeCloseTo(58, 9);
    expect(cover.offsetY).toBeCloseTo(0, 9);
    // contain: scale 224/640; the image fills model rows 20.3..203.7, so model row 20.3 is image row 0.
    const contain = modelToShownPixels({ ...MODEL, resize: 'contain' }, source, { width: 320, height: 262 });
    expect(contain.scaleX).toBeCloseTo(320 / 224, 9);
    expect(20.3 * contain.scaleY + contain.offsetY).toBeCloseTo(0, 6);
    expect(203.7 * contain.scaleY + contain.offsetY).toBeCloseTo(262, 6);
    expect(224 * contain.scaleX + contain.offsetX).toBeCloseTo(320, 6);
  });

  test('a large image is shrunk to the width asked for, its aspect kept', async () => {
    const shown = await shownImageFromBuffer(readFileSync(XRAY), XRAY, 320);
    expect([shown.width, shown.height, shown.sourceWidth, shown.sourceHeight]).toEqual([320, 262, 640, 524]);
    expect(shown.display.length).toBe(320 * 262 * 3);
  });
});
