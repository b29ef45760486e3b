// Image input preparation, occlusion patch colours and heatmap overlays.
export { IMAGENET_NORMALIZATION, imagenetInputSpec, normalizePixelValue, validateInputSpec } from './input-spec.js';
export type { ChannelOrder, InputSpec, Normalization, ResizePolicy } from './input-spec.js';
export { LUMA_WEIGHTS, luma } from './channel-conversion.js';
export { normalizePixels, OVERLAY_MAX_WIDTH, prepareImage, prepareImageFromBuffer, shownImageFromBuffer } from './prepare-image.js';
export type { PreparedImage, ShownImage } from './prepare-image.js';
export { modelToShownPixels, resizeGeometry } from './source-region.js';
export type { AxisMapping } from './source-region.js';
export { GRAY_PATCH_VALUE, formatPatchColor, parsePatchColor, pastePatch, patchPixelValues, patchValues } from './patch-color.js';
export type { PatchColor, PatchRect } from './patch-color.js';
export { ABSOLUTE_RANGE, DEFAULT_OPACITY, drawOverlay, dropRange, overlayLayout, renderOverlay, renderOverlayPng } from './render-overlay.js';
export type { DropRange, HeatmapGrid, OverlayImage, OverlayLayout, OverlayOptions, OverlayScale, OverlayScaleKind } from './render-overlay.js';
