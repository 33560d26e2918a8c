export type ImageFormat = 'png' | 'jpeg';

export interface ImageInfo {
  format: ImageFormat;
  width: number;
  height: number;
}

import { InputError } from '../../common/errors';

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
export const MAX_IMAGE_SIDE = 16384;
/** A 5 MB file can still claim (and, compressed well, hold) a huge bitmap: decoding is bounded by pixels, not bytes. */
export const MAX_IMAGE_PIXELS = 40_000_000;

/** PNG: magic, then the IHDR chunk first with width/height as big-endian u32. */
function pngInfo(bytes: Buffer): ImageInfo | string {
  if (bytes.length < 33) return 'is a truncated PNG';
  if (bytes.toString('latin1', 12, 16) !== 'IHDR') return 'is a PNG without an IHDR header';
  return { format: 'png', width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** SOFn markers carry the frame size; DHT (C4), JPG (C8) and DAC (CC) share the range but do not. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** JPEG: walk the marker segments up to the first start-of-frame. */
function jpegInfo(bytes: Buffer): ImageInfo | string {
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) return 'is a JPEG with a corrupt marker';
    const marker = bytes[offset + 1];
    if (marker === 0xff) {
      offset += 1; // fill byte
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      offset += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return 'is a JPEG without a frame header';
    const length = bytes.readUInt16BE(offset + 2);
    if (length < 2) return 'is a JPEG with a corrupt segment';
    if (isStartOfFrame(marker)) {
      if (offset + 9 > bytes.length) return 'is a truncated JPEG';
      return { format: 'jpeg', height: bytes.readUInt16BE(offset + 5), width: bytes.readUInt16BE(offset + 7) };
    }
    offset += 2 + length;
  }
  return 'is a truncated JPEG';
}

/** Identifies a PNG or JPEG from its header and reads its dimensions; returns the problem otherwise. */
export function inspectImage(bytes: Buffer): ImageInfo | string {
  let info: ImageInfo | string;
  if (bytes.subarray(0, 8).equals(PNG_MAGIC)) info = pngInfo(bytes);
  else if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) info = jpegInfo(bytes);
  else return 'is not a PNG or JPEG image';
  if (typeof info === 'string') return info;
  if (info.width < 1 || info.height < 1 || info.width > MAX_IMAGE_SIDE || info.height > MAX_IMAGE_SIDE) {
    return `has unusable dimensions ${info.width}x${info.height} (1 to ${MAX_IMAGE_SIDE} pixels per side)`;
  }
  if (info.width * info.height > MAX_IMAGE_PIXELS) {
    return `has ${info.width}x${info.height} = ${info.width * info.height} pixels, more than the budget of ${MAX_IMAGE_PIXELS}`;
  }
  return info;
}

/**
 * Decodes the whole image, so that a header that lies about the data, a truncated stream or a
 * corrupt one is found at intake and not by the GPU worker later. Run after inspectImage, whose
 * pixel budget bounds what is decoded here. Returns the problem, or null.
 */
export async function findDecodingProblem(bytes: Buffer, info: ImageInfo): Promise<string | null> {
  // The decoder the audits already use (sharp underneath), loaded only when an image is submitted.
  const { RawImage } = await import('@huggingface/transformers');
  let decoded: { width: number; height: number };
  try {
    decoded = await RawImage.fromBlob(new Blob([bytes]));
  } catch (err) {
    return `cannot be decoded as a ${info.format.toUpperCase()} (${(err as Error).message.split('\n')[0]})`;
  }
  // JPEG orientation (EXIF) may swap the sides on decoding.
  const sides = [decoded.width, decoded.height].sort().join('x');
  if (sides !== [info.width, info.height].sort().join('x')) {
    return `declares ${info.width}x${info.height} pixels but decodes to ${decoded.width}x${decoded.height}`;
  }
  return null;
}

/** Checks that each image decodes, one at a time (each may take up to the pixel budget in memory), naming the first that does not. */
export async function assertImagesDecode(images: ReadonlyArray<ImageInfo & { data: string }>, field: string): Promise<void> {
  for (const [i, image] of images.entries()) {
    const problem = await findDecodingProblem(Buffer.from(image.data, 'base64'), image);
    if (problem) throw new InputError(`${field}[${i}]`, problem);
  }
}
