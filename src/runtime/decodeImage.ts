/**
 * Image files to RGBA pixels. In a browser: createImageBitmap with no colour-space conversion and
 * no premultiplied alpha (so pixel values are the file's), drawn once onto an OffscreenCanvas to read
 * them back; resizing and normalisation then happen in TypeScript (image.ts), the same in page and
 * Node. Without createImageBitmap (Node), PNG is decoded in TypeScript.
 */
import { QuantscopeError } from '../core/errors';
import { decodePng, type RgbaImage } from '../data/image';

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];

export function isImageFile(name: string): boolean {
  return /\.(png|jpe?g|webp|bmp|gif)$/i.test(name);
}

export async function decodeImage(bytes: Uint8Array, name: string): Promise<RgbaImage> {
  const fail = (why: string): never => {
    throw new QuantscopeError('BAD_DATA', `${name} could not be decoded as an image (${why})`);
  };
  if (typeof createImageBitmap !== 'function' || typeof OffscreenCanvas !== 'function') {
    if (PNG_MAGIC.every((b, i) => bytes[i] === b)) return decodePng(bytes, name);
    return fail('outside a browser only PNG can be decoded');
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), {
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
    });
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d', { colorSpace: 'srgb' });
  if (!ctx) return fail('no 2D canvas');
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  return {
    width: canvas.width,
    height: canvas.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}
