// Image input preparation, occlusion patch colours and heatmap overlays.
export { IMAGENET_NORMALIZATION, imagenetInputSpec, normalizePixelValue, validateInputSpec } from './input-spec.js';
export type { ChannelOrder, InputSpec, Normalization, ResizePolicy } from './input-spec.js';
export { LUMA_WEIGHTS, luma } from './channel-conversion.js';
export { normalizePixels, prepareImage, prepareImageFromBuffer } from './prepare-image.js';
export type { PreparedImage } from './prepare-image.js';
export { GRAY_PATCH_VALUE, formatPatchColor, parsePatchColor, pastePatch, patchPixelValues, patchValues } from './patch-color.js';
export type { PatchColor, PatchRect } from './patch-color.js';
export { DEFAULT_OPACITY, drawOverlay, overlayLayout, renderOverlay, renderOverlayPng } from './render-overlay.js';
export type { DropRange, HeatmapGrid, OverlayImage, OverlayLayout, OverlayOptions } from './render-overlay.js';
