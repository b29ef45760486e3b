import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KryptonError } from '../../src/errors';
import { imageDimensions } from '../../src/image/decode-image';
import { imagenetInputSpec, type ResizePolicy } from '../../src/image/input-spec';
import { prepareImage } from '../../src/image/prepare-image';
import { regionInModelPixels, type Rectangle } from '../../src/image/source-region';
import { encodePng, temporaryFolder } from './image-fixtures';

const folder = temporaryFolder('region');
afterAll(() => folder.remove());

/** A black gray image with a white rectangle: where it lands after resizing shows the resize's geometry. */
async function imageWithRectangle(width: number, height: number, white: Rectangle): Promise<string> {
  const samples = new Uint8Array(width * height);
  for (let y = white.y; y < white.y + white.height; y++) samples.fill(255, y * width + white.x, y * width + white.x + white.width);
  const path = join(folder.path, `${width}x${height}-${white.x}-${white.y}.png`);
  writeFileSync(path, await encodePng(samples, width, height, 1));
  return path;
}

/** The bounding box of the resized image's pixels brighter than half. */
function brightBox(pixels: Float32Array, width: number, height: number): Rectangle {
  let [left, top, right, bottom] = [width, height, 0, 0];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (pixels[y * width + x] <= 127.5) continue;
      left = Math.min(left, x);
      top = Math.min(top, y);
      right = Math.max(right, x + 1);
      bottom = Math.max(bottom, y + 1);
    }
  }
  return { x: left, y: top, width: right - left, height: bottom - top };
}

describe('a region of the source image in model-input pixels', () => {
  it.each([
    ['stretch', 200, 100, { x: 40, y: 20, width: 80, height: 40 }],
    ['cover', 200, 100, { x: 60, y: 20, width: 80, height: 40 }],
    ['contain', 200, 100, { x: 40, y: 20, width: 80, height: 40 }],
    ['contain', 90, 180, { x: 18, y: 36, width: 45, height: 72 }],
  ] as const)('%s of a %ix%i image lands where sharp puts the pixels', async (resize, width, height, white) => {
    const path = await imageWithRectangle(width, height, white);
    const spec = imagenetInputSpec({ width: 50, height: 50, channels: 'gray', channelCount: 1, resize: resize as ResizePolicy });
    const prepared = await prepareImage(path, spec);
    const mapped = regionInModelPixels(white, await imageDimensions(path), path, spec);
    const seen = brightBox(prepared.pixels, 50, 50);
    // Edges agree to a pixel: antialiasing blurs the resized edge by less than one.
    for (const key of ['x', 'y', 'width', 'height'] as const) expect(Math.abs(mapped[key] - seen[key])).toBeLessThanOrEqual(1);
  });

  it('stretch scales each axis by its own factor, rounding edges to the nearest pixel', () => {
    const model = { width: 224, height: 224, resize: 'stretch' as const };
    expect(regionInModelPixels({ x: 320, y: 0, width: 320, height: 240 }, { width: 640, height: 480 }, 'a.png', model)).toEqual({ x: 112, y: 0, width: 112, height: 112 });
    expect(regionInModelPixels({ x: 1, y: 1, width: 10, height: 10 }, { width: 640, height: 480 }, 'a.png', model)).toEqual({ x: 0, y: 0, width: 4, height: 5 });
  });

  it('is refused with the unit named when it leaves the image, the part the model sees, or shrinks to nothing', () => {
    const refusal = (action: () => unknown): string => {
      try {
        action();
      } catch (error) {
        expect(error).toBeInstanceOf(KryptonError);
        return (error as Error).message;
      }
      throw new Error('expected a refusal');
    };
    const stretch = { width: 224, height: 224, resize: 'stretch' as const };
    expect(refusal(() => regionInModelPixels({ x: 0, y: 0, width: 900, height: 10 }, { width: 640, height: 480 }, 'a.png', stretch)))
      .toBe('REGION 0, 0, 900, 10 (image pixels) exceeds the 640x480 image a.png');
    expect(refusal(() => regionInModelPixels({ x: 0, y: 0, width: 100, height: 100 }, { width: 200, height: 100 }, 'a.png', { ...stretch, resize: 'cover' })))
      .toBe('REGION 0, 0, 100, 100 (image pixels) reaches outside the part of the 200x100 image a.png that the model sees (resized to cover 224x224, the rest cropped)');
    expect(refusal(() => regionInModelPixels({ x: 10, y: 10, width: 1, height: 50 }, { width: 6400, height: 480 }, 'a.png', stretch)))
      .toBe('REGION 10, 10, 1, 50 (image pixels) is less than a model-input pixel wide in the 6400x480 image a.png (resized to 224x224)');
  });
});
