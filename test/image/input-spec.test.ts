import { KryptonError } from '../../src/errors.js';
import { luma, rgbToModelChannels } from '../../src/image/channel-conversion.js';
import { IMAGENET_NORMALIZATION, imagenetInputSpec, normalizePixelValue, validateInputSpec } from '../../src/image/input-spec.js';

describe('imagenetInputSpec', () => {
  test('defaults: 224×224 RGB on 0–1 with ImageNet statistics, stretched', () => {
    expect(imagenetInputSpec()).toEqual({
      width: 224,
      height: 224,
      channelCount: 3,
      channels: 'rgb',
      scale: 1,
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      resize: 'stretch',
    });
    expect(IMAGENET_NORMALIZATION.mean).toEqual([0.485, 0.456, 0.406]);
  });

  test('BGR reorders the statistics; one gray channel averages them; overrides win', () => {
    expect(imagenetInputSpec({ channels: 'bgr' }).mean).toEqual([0.406, 0.456, 0.485]);
    const gray = imagenetInputSpec({ channels: 'gray' });
    expect(gray.channelCount).toBe(1);
    expect(gray.mean[0]).toBeCloseTo(0.449, 10);
    expect(gray.std[0]).toBeCloseTo(0.226, 10);
    expect(imagenetInputSpec({ channels: 'gray', channelCount: 3 }).mean).toEqual([0.485, 0.456, 0.406]);
    const raw = imagenetInputSpec({ width: 32, height: 28, scale: 255, mean: [0, 0, 0], std: [1, 1, 1], resize: 'cover' });
    expect([raw.width, raw.height, raw.scale, raw.mean, raw.resize]).toEqual([32, 28, 255, [0, 0, 0], 'cover']);
  });

  test.each([
    [{ width: 0 }, /width must be an integer/],
    [{ height: 2.5 }, /height must be an integer/],
    [{ channelCount: 2 }, /channel count must be 1 or 3/],
    [{ channels: 'rgb' as const, channelCount: 1 }, /rgb needs 3 channels/],
    [{ scale: 100 as 1 }, /scale must be 1 or 255/],
    [{ std: [1, 0, 1] }, /non-zero/],
    [{ mean: [0, 0] }, /mean needs 3 values/],
    [{ resize: 'crop' as 'cover' }, /unknown resize policy/],
  ])('rejects %p', (overrides, message) => {
    expect(() => imagenetInputSpec(overrides)).toThrow(KryptonError);
    expect(() => validateInputSpec({ ...imagenetInputSpec(), ...overrides })).toThrow(message);
  });
});

describe('pixel arithmetic', () => {
  test('normalisation: scale first, then (v - mean) / std', () => {
    expect(normalizePixelValue(255, 0, imagenetInputSpec())).toBeCloseTo((1 - 0.485) / 0.229, 12);
    const caffe = imagenetInputSpec({ channels: 'bgr', scale: 255, mean: [104, 117, 123], std: [1, 1, 1] });
    expect(normalizePixelValue(100, 2, caffe)).toBe(-23);
  });

  test('luma is BT.601 and exact on gray pixels', () => {
    expect(luma(255, 0, 0)).toBeCloseTo(76.245, 10);
    expect(luma(10, 200, 30)).toBeCloseTo(0.299 * 10 + 0.587 * 200 + 0.114 * 30, 10);
    for (const v of [0, 1, 77, 128, 254.5, 255]) expect(luma(v, v, v)).toBe(v);
    const bgr = imagenetInputSpec({ channels: 'bgr' });
    expect(Array.from(rgbToModelChannels(1, 2, 3, bgr))).toEqual([3, 2, 1]);
    const gray3 = imagenetInputSpec({ channels: 'gray', channelCount: 3 });
    expect(Array.from(rgbToModelChannels(9, 9, 9, gray3))).toEqual([9, 9, 9]);
  });
});
