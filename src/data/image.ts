/**
 * Images to model input tensors, the same code in the page, the worker and Node. The page decodes
 * image files with the browser (runtime/decodeImage.ts: createImageBitmap with no colour conversion);
 * Node and the command line decode PNG here in TypeScript (fast-png). Resizing (bilinear, half-pixel
 * centres) and normalisation are ours, never a canvas, so decoded pixels give the same tensor everywhere.
 */
import { convertIndexedToRgb, decode } from 'fast-png';
import { QuantscopeError } from '../core/errors';

export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  /** 8-bit RGBA, row-major. */
  readonly data: Uint8Array | Uint8ClampedArray;
}

export type Normalization = 'imagenet' | 'unit' | 'signed' | 'raw255';

export interface ImagePreset {
  /** imagenet: (x/255 - mean)/std; unit: x/255; signed: x/127.5 - 1; raw255: x. */
  readonly normalize: Normalization;
  readonly channels: 'RGB' | 'BGR';
  readonly layout: 'NCHW' | 'NHWC';
  /**
   * Target size. Both given: `resize` decides: stretch; keep the aspect and pad right/bottom with black;
   * or height-pad (PaddleOCR's text classifier, predict_cls.py resize_norm_img): the height stretched to
   * H, the width following the aspect (ceil) up to W, squeezed to W past it, and the columns right of it
   * zeros after normalization. One given: the other follows the image's aspect ratio. Neither: the
   * image's own size.
   */
  readonly width?: number;
  readonly height?: number;
  readonly resize: 'stretch' | 'pad' | 'height-pad';
  /** Round a free dimension up to a multiple of this (PP-OCR det wants multiples of 32). */
  readonly multipleOf?: number;
}

/** The tensor size a preset gives an image of width x height. */
export function targetSize(preset: ImagePreset, width: number, height: number): { width: number; height: number } {
  const m = preset.multipleOf ?? 1;
  const up = (v: number) => Math.max(m, Math.ceil(v / m) * m);
  if (preset.width !== undefined && preset.height !== undefined) return { width: preset.width, height: preset.height };
  if (preset.height !== undefined) return { width: up((width * preset.height) / height), height: preset.height };
  if (preset.width !== undefined) return { width: preset.width, height: up((height * preset.width) / width) };
  return { width: up(width), height: up(height) };
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

/**
 * PP-OCR's detection preprocessing (PaddleOCR det config: DecodeImage BGR, NormalizeImage with
 * ImageNet mean/std applied in the image's channel order, ToCHWImage); sizes must be multiples of 32.
 */
export const PPOCR_DET_PRESET: ImagePreset = {
  normalize: 'imagenet',
  channels: 'BGR',
  layout: 'NCHW',
  resize: 'stretch',
  multipleOf: 32,
};

/**
 * PaddleOCR's text direction classifier (tools/infer/predict_cls.py, resize_norm_img with its default
 * cls_image_shape 3,48,192): BGR, height 48, the width by the aspect up to 192 then padded right with
 * zeros, x/255 - 0.5 over 0.5 (= x/127.5 - 1).
 */
export const PPOCR_CLS_PRESET: ImagePreset = {
  normalize: 'signed',
  channels: 'BGR',
  layout: 'NCHW',
  resize: 'height-pad',
  width: 192,
  height: 48,
};

/** PP-OCR's recognition preprocessing (resize_norm_img): BGR, height 48 keeping the aspect, x/127.5 - 1. */
export const PPOCR_REC_PRESET: ImagePreset = {
  normalize: 'signed',
  channels: 'BGR',
  layout: 'NCHW',
  resize: 'stretch',
  height: 48,
};

export function decodePng(bytes: Uint8Array, name = 'image.png'): RgbaImage {
  let png;
  try {
    png = decode(bytes);
  } catch (e) {
    throw new QuantscopeError(
      'BAD_DATA',
      `${name} could not be decoded as PNG (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  const { width, height } = png;
  const n = width * height;
  const out = new Uint8Array(n * 4);
  let src: ArrayLike<number> = png.data;
  let channels = png.channels;
  if (png.palette) {
    src = convertIndexedToRgb(png);
    channels = png.palette[0]?.length ?? 3;
  }
  const shift = png.depth === 16 ? 8 : 0;
  for (let i = 0; i < n; i++) {
    const g = (c: number): number => src[i * channels + c]! >> shift;
    if (channels >= 3) {
      out[i * 4] = g(0);
      out[i * 4 + 1] = g(1);
      out[i * 4 + 2] = g(2);
      out[i * 4 + 3] = channels === 4 ? g(3) : 255;
    } else {
      const v = g(0);
      out[i * 4] = v;
      out[i * 4 + 1] = v;
      out[i * 4 + 2] = v;
      out[i * 4 + 3] = channels === 2 ? g(1) : 255;
    }
  }
  return { width, height, data: out };
}

/**
 * Bilinear resample of RGB (alpha dropped) with half-pixel centres, into float [0, 255]. Each column's
 * source pixels and weight are the same for every row: worked out once.
 */
function resampleRgb(img: RgbaImage, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h * 3);
  const src = img.data;
  const sx = img.width / w;
  const sy = img.height / h;
  // byte offsets of each column's two source pixels within a row, and its weight
  const left = new Int32Array(w);
  const right = new Int32Array(w);
  const wxs = new Float64Array(w);
  for (let x = 0; x < w; x++) {
    const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), img.width - 1);
    const x0 = Math.floor(fx);
    left[x] = x0 * 4;
    right[x] = Math.min(x0 + 1, img.width - 1) * 4;
    wxs[x] = fx - x0;
  }
  for (let y = 0; y < h; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), img.height - 1);
    const y0 = Math.floor(fy);
    const row0 = y0 * img.width * 4;
    const row1 = Math.min(y0 + 1, img.height - 1) * img.width * 4;
    const wy = fy - y0;
    for (let x = 0, o = y * w * 3; x < w; x++, o += 3) {
      const wx = wxs[x]!;
      const a = row0 + left[x]!;
      const b = row0 + right[x]!;
      const c = row1 + left[x]!;
      const d = row1 + right[x]!;
      for (let k = 0; k < 3; k++) {
        const top = src[a + k]! * (1 - wx) + src[b + k]! * wx;
        const bottom = src[c + k]! * (1 - wx) + src[d + k]! * wx;
        out[o + k] = top * (1 - wy) + bottom * wy;
      }
    }
  }
  return out;
}

/** A value in [0, 255] normalized for the tensor's channel `c` (its place in the tensor, after the channel order). */
function normalizer(preset: ImagePreset, c: number): (v: number) => number {
  switch (preset.normalize) {
    case 'imagenet': {
      const mean = IMAGENET_MEAN[c]!;
      const std = IMAGENET_STD[c]!;
      return (v) => (v / 255 - mean) / std;
    }
    case 'unit':
      return (v) => v / 255;
    case 'signed':
      return (v) => v / 127.5 - 1;
    case 'raw255':
      return (v) => v;
  }
}

/**
 * An image as a [1, 3, H, W] (or [1, H, W, 3]) float32 tensor under `preset`. At the image's own size
 * each channel's 256 values are normalized once and looked up (the same float32 values the formula
 * gives); resized, the resampled values are normalized one by one.
 */
export function imageToTensor(img: RgbaImage, preset: ImagePreset): { data: Float32Array; dims: number[] } {
  const { width: W, height: H } = targetSize(preset, img.width, img.height);
  const order = preset.channels === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  const data = new Float32Array(W * H * 3);
  const dims = imageTensorDims(img.width, img.height, preset);
  // where channel c of pixel i goes
  const planar = preset.layout === 'NCHW';
  const channelAt = (c: number) => (planar ? c * W * H : c);
  const pixelStep = planar ? 1 : 3;
  if (W === img.width && H === img.height) {
    const src = img.data;
    for (let c = 0; c < 3; c++) {
      const norm = normalizer(preset, c);
      const table = Float32Array.from({ length: 256 }, (_, v) => norm(v));
      for (let i = 0, s = order[c]!, o = channelAt(c); i < W * H; i++, s += 4, o += pixelStep)
        data[o] = table[src[s]!]!;
    }
    return { data, dims };
  }
  // the resampled image: `w` columns of `h` rows at the top left (the rest is padding: zeros after
  // normalization), or stretched to the whole W x H
  let w = W;
  let h = H;
  if (preset.resize === 'height-pad') w = Math.min(W, Math.ceil((H * img.width) / img.height));
  else if (preset.resize === 'pad') {
    // keep the aspect ratio, pad right and bottom with black
    const scale = Math.min(W / img.width, H / img.height);
    w = Math.max(1, Math.round(img.width * scale));
    h = Math.max(1, Math.round(img.height * scale));
  }
  const rgb = resampleRgb(img, w, h);
  // height-pad leaves the padding at zero; pad fills it with black, normalized
  const black = preset.resize === 'pad';
  for (let c = 0; c < 3; c++) {
    const norm = normalizer(preset, c);
    const o = channelAt(c);
    const blackValue = norm(0);
    for (let y = 0; y < H; y++) {
      let at = o + y * W * pixelStep;
      let x = 0;
      if (y < h) for (let s = y * w * 3 + order[c]!; x < w; x++, s += 3, at += pixelStep) data[at] = norm(rgb[s]!);
      if (black) for (; x < W; x++, at += pixelStep) data[at] = blackValue;
    }
  }
  return { data, dims };
}

/** The dims imageToTensor gives an image of this size under `preset`: [1, 3, H, W] (NCHW) or [1, H, W, 3]. */
export function imageTensorDims(width: number, height: number, preset: ImagePreset): number[] {
  const { width: W, height: H } = targetSize(preset, width, height);
  return preset.layout === 'NCHW' ? [1, 3, H, W] : [1, H, W, 3];
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * A PNG's width and height read from its header, without decoding it: the 8-byte signature, then the
 * IHDR chunk first (PNG spec, 5.2 and 11.2.2: length, "IHDR", width and height as big-endian uint32).
 * Null when the bytes do not start like a PNG (decodePng then says why).
 */
export function pngSize(bytes: Uint8Array): { width: number; height: number } | null {
  if (bytes.length < 24 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) return null;
  if (String.fromCharCode(bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!) !== 'IHDR') return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  return width > 0 && height > 0 ? { width, height } : null;
}
