import sharp from 'sharp';
import { KryptonError, messageOf } from '../errors.js';
import { imageFileCap, limitFromEnvironment, openRegularFile } from '../io/read-regular-file.js';
import { decodeDicomImage, hasDicomMarker, isDicomName } from './dicom/index.js';
import { readDicomTags } from './dicom/dicom-tags.js';
import type { ResizePolicy } from './input-spec.js';

/** A decoded, resized image: gray or RGB (alpha dropped), interleaved, on the 0–255 scale. */
export interface DecodedImage {
  width: number;
  height: number;
  sourceWidth: number;
  sourceHeight: number;
  /** 1 = gray, 3 = RGB. */
  channels: 1 | 3;
  /** [H, W, channels]; 16-bit sources keep full precision as value / 257. */
  values: Float32Array;
}

const FIT: Record<ResizePolicy, 'fill' | 'cover' | 'contain'> = { stretch: 'fill', cover: 'cover', contain: 'contain' };

// Reject truncated or corrupt pixel data, but not harmless warnings such as odd ICC profiles.
const FAIL_ON = 'error';

/**
 * Decoding is refused above this many pixels (a 10000×10000 image), checked on the header before
 * any pixel is decoded: a small, highly compressed file can claim billions of pixels.
 */
export const DEFAULT_MAX_IMAGE_PIXELS = 100_000_000;
export const PIXELS_VARIABLE = 'KRYPTON_MAX_IMAGE_PIXELS';
/** The 128-byte preamble and the four letters DICM. */
const DICOM_MARKER_END = 132;

/**
 * Decodes any image sharp reads (PNG, JPEG, WebP, TIFF, GIF…) and resizes it with a linear
 * (antialiased bilinear, like PIL's BILINEAR) kernel. Runs in two steps (decode at full size, then
 * resize) so that alpha can be dropped before resizing and JPEGs are not shrunk on load: every
 * format gets the same arithmetic. Embedded ICC profiles are applied (colours come out in sRGB);
 * EXIF orientation is not, as PIL and torchvision do not apply it by default either. DICOM files
 * (the DICM marker, or a .dcm name) are decoded to their displayed 8-bit image (src/image/dicom)
 * and resized by the same code; `frame` (from 1) picks a frame of a multi-frame DICOM file, and
 * other formats have only frame 1.
 */
export async function decodeAndResize(
  input: Buffer,
  label: string,
  width: number,
  height: number,
  policy: ResizePolicy,
  frame = 1,
): Promise<DecodedImage> {
  return resizeFullSize(await decodeFullSize(input, label, frame), label, width, height, policy);
}

/**
 * The image as overlays show it: its own size, or shrunk to `maxWidth` wide with its aspect kept,
 * decoded as decodeAndResize decodes it (so a DICOM file shows its displayed image).
 */
export async function decodeForDisplay(input: Buffer, label: string, maxWidth: number, frame = 1): Promise<DecodedImage> {
  return shrinkForDisplay(await decodeFullSize(input, label, frame), label, maxWidth);
}

/** decodeAndResize and decodeForDisplay from one decode of the file. */
export async function decodeForModelAndDisplay(
  input: Buffer,
  label: string,
  width: number,
  height: number,
  policy: ResizePolicy,
  maxWidth: number,
  frame = 1,
): Promise<{ model: DecodedImage; display: DecodedImage }> {
  const full = await decodeFullSize(input, label, frame);
  return { model: await resizeFullSize(full, label, width, height, policy), display: await shrinkForDisplay(full, label, maxWidth) };
}

function shrinkForDisplay(full: FullSizeImage, label: string, maxWidth: number): Promise<DecodedImage> {
  const width = Math.min(full.width, maxWidth);
  const height = width === full.width ? full.height : Math.max(1, Math.round((full.height * width) / full.width));
  return resizeFullSize(full, label, width, height, 'stretch');
}

async function decodeFullSize(input: Buffer, label: string, frame: number): Promise<FullSizeImage> {
  if (input.length === 0) throw imageError(label, 'is empty (0 bytes)');
  const maxPixels = limitFromEnvironment(PIXELS_VARIABLE, DEFAULT_MAX_IMAGE_PIXELS);
  if (hasDicomMarker(input) || isDicomName(label)) {
    const gray = await decodeDicomImage(input, label, maxPixels, PIXELS_VARIABLE, frame);
    return { ...gray, channels: 1, deep: false };
  }
  if (frame !== 1) throw imageError(label, `has 1 frame: frame ${frame} does not exist (only DICOM files hold several)`);
  let metadata: sharp.Metadata;
  try {
    // The header alone, without sharp's own pixel limit, so that a refusal can give the size.
    metadata = await sharp(input, { failOn: FAIL_ON, limitInputPixels: false }).metadata();
  } catch (error) {
    throw imageError(label, describeHeaderFailure(messageOf(error)));
  }
  const { width: sourceWidth, height: sourceHeight } = metadata;
  if (!sourceWidth || !sourceHeight) throw imageError(label, 'has no pixels (width or height is 0)');
  if (sourceWidth * sourceHeight > maxPixels) {
    throw imageError(
      label,
      `is ${sourceWidth}×${sourceHeight} pixels, over the limit of ${maxPixels.toLocaleString('en-US')} pixels (set ${PIXELS_VARIABLE} to allow more)`,
    );
  }

  const gray = metadata.space === 'b-w' || metadata.space === 'grey16';
  const deep = metadata.depth === 'ushort';
  const colourspace = gray ? (deep ? 'grey16' : 'b-w') : deep ? 'rgb16' : 'srgb';
  const depth = deep ? 'ushort' : 'uchar';
  const channels: 1 | 3 = gray ? 1 : 3;

  let decoded: { data: Buffer; info: sharp.OutputInfo };
  try {
    // Alpha is ignored (as PIL's convert('RGB') does), not composited: the colour under it is kept.
    decoded = await sharp(input, { failOn: FAIL_ON, limitInputPixels: maxPixels })
      .removeAlpha()
      .toColourspace(colourspace)
      .raw({ depth })
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw imageError(label, `is truncated or corrupt: its pixel data cannot be decoded (${messageOf(error)})`);
  }
  if (decoded.info.channels !== channels) {
    throw imageError(label, `decoded to ${decoded.info.channels} channels where ${channels} were expected`);
  }

  return { data: decoded.data, width: sourceWidth, height: sourceHeight, channels, deep };
}

/** Decoded pixels at the source's size, interleaved; 16-bit samples in native byte order when deep. */
interface FullSizeImage {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly deep: boolean;
}

/** The resize every format shares (so a DICOM and the PNG of its displayed image prepare alike). */
async function resizeFullSize(image: FullSizeImage, label: string, width: number, height: number, policy: ResizePolicy): Promise<DecodedImage> {
  const { width: sourceWidth, height: sourceHeight, channels, deep } = image;
  const colourspace = channels === 1 ? (deep ? 'grey16' : 'b-w') : deep ? 'rgb16' : 'srgb';
  const depth = deep ? 'ushort' : 'uchar';
  let resized = image.data;
  if (sourceWidth !== width || sourceHeight !== height) {
    const raw = { width: sourceWidth, height: sourceHeight, channels };
    const samples = deep ? asUint16(image.data) : image.data;
    try {
      resized = await sharp(samples, { raw, limitInputPixels: false })
        .resize(width, height, { fit: FIT[policy], kernel: 'linear', position: 'centre', background: { r: 0, g: 0, b: 0, alpha: 1 } })
        .toColourspace(colourspace)
        .raw({ depth })
        .toBuffer();
    } catch (error) {
      throw imageError(label, `could not be resized to ${width}×${height} (${messageOf(error)})`);
    }
  }

  const samples = deep ? asUint16(resized) : resized;
  if (samples.length !== width * height * channels) throw imageError(label, 'could not be resized to the model input size');
  const values = new Float32Array(samples.length);
  const factor = deep ? 1 / 257 : 1;
  for (let i = 0; i < samples.length; i++) values[i] = samples[i] * factor;
  return { width, height, sourceWidth, sourceHeight, channels, values };
}

function asUint16(buffer: Buffer): Uint16Array {
  // sharp's output buffers may not be 2-byte aligned within their ArrayBuffer; copy only those.
  if (buffer.byteOffset % 2 === 0) return new Uint16Array(buffer.buffer, buffer.byteOffset, buffer.length / 2);
  return new Uint16Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.length));
}

function describeHeaderFailure(message: string): string {
  if (/unsupported image format/i.test(message)) return 'is not an image in a supported format (PNG, JPEG, WebP, TIFF, GIF)';
  if (/pixel limit/i.test(message)) return 'is too large to decode';
  if (/corrupt header/i.test(message)) return 'has a corrupt or truncated header';
  return `cannot be decoded (${message})`;
}

export function imageError(label: string, problem: string): KryptonError {
  return new KryptonError(`Image '${label}' ${problem}`, 'image');
}

/**
 * An image file's width and height from its header alone, as decodeAndResize sees them (EXIF
 * orientation not applied); a DICOM file's are its Rows and Columns.
 */
export async function imageDimensions(path: string): Promise<{ width: number; height: number }> {
  if (isDicomName(path) || (await startsWithDicomMarker(path))) {
    const { columns: tags } = await readDicomTags(path);
    const [width, height] = [Number(tags.Columns ?? 0), Number(tags.Rows ?? 0)];
    if (!width || !height) throw new KryptonError(`DICOM file '${path}' has no pixels (Rows ${height}, Columns ${width})`, 'image');
    return { width, height };
  }
  let metadata: sharp.Metadata;
  try {
    metadata = await sharp(path, { failOn: FAIL_ON }).metadata();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw imageError(path, code === 'ENOENT' || /missing|no such file/i.test(messageOf(error)) ? 'not found' : describeHeaderFailure(messageOf(error)));
  }
  if (!metadata.width || !metadata.height) throw imageError(path, 'has no pixels (width or height is 0)');
  return { width: metadata.width, height: metadata.height };
}

/** Whether a file's first bytes hold the DICM marker; a file that cannot be opened is left to the decoder to report. */
async function startsWithDicomMarker(path: string): Promise<boolean> {
  let opened;
  try {
    opened = await openRegularFile(path, imageFileCap(), ({ problem }) => imageError(path, problem));
  } catch {
    return false;
  }
  try {
    const head = Buffer.alloc(DICOM_MARKER_END);
    const { bytesRead } = await opened.handle.read(head, 0, head.length, 0);
    return hasDicomMarker(head.subarray(0, bytesRead));
  } finally {
    await opened.handle.close();
  }
}
