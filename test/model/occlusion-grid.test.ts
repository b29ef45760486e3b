import { KryptonError } from '../../src/errors';
import { cellCount, occlusionGrid, patchCorners } from '../../src/model/occlusion-grid';

describe('occlusionGrid', () => {
  it('has floor((W - P) / S) + 1 cells per row and skips the partial last step', () => {
    const grid = occlusionGrid({ image: { width: 224, height: 224 }, patch: { width: 16, height: 16 }, stride: { x: 4, y: 4 } });
    expect([grid.columns, grid.rows]).toEqual([53, 53]);
    const odd = occlusionGrid({ image: { width: 30, height: 20 }, patch: { width: 8, height: 6 }, stride: { x: 5, y: 4 } });
    expect([odd.columns, odd.rows]).toEqual([5, 4]);
    const { tops, lefts } = patchCorners(odd);
    expect(cellCount(odd)).toBe(20);
    expect([lefts[4], tops[4]]).toEqual([20, 0]);
    expect([lefts[19], tops[19]]).toEqual([20, 12]);
  });

  it('limits positions to patches inside the region', () => {
    const grid = occlusionGrid({ image: { width: 64, height: 64 }, patch: { width: 8, height: 8 }, stride: { x: 4, y: 4 }, region: { x: 10, y: 20, width: 20, height: 12 } });
    expect([grid.originX, grid.originY, grid.columns, grid.rows]).toEqual([10, 20, 4, 2]);
  });

  it.each([
    [{ patch: { width: 300, height: 16 } }, 'patch 300x16 is larger than the 224x224 model-input image'],
    [{ stride: { x: 0, y: 4 } }, 'stride must be a positive integer, got 0'],
    [{ stride: { x: -2, y: 4 } }, 'stride must be a positive integer, got -2'],
    [{ region: { x: 200, y: 0, width: 40, height: 40 } }, 'region (200, 0, 40, 40) lies outside the 224x224 model-input image'],
    [{ region: { x: 0, y: 0, width: 8, height: 40 } }, 'patch 16x16 is larger than the region (0, 0, 8, 40)'],
  ])('rejects %o', (override, message) => {
    const request = { image: { width: 224, height: 224 }, patch: { width: 16, height: 16 }, stride: { x: 4, y: 4 }, ...override };
    expect(() => occlusionGrid(request)).toThrow(new KryptonError(message));
  });
});
